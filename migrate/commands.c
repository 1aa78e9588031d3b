// SPDX-License-Identifier: MIT
/*
 * Control commands of an outgoing migration, in QMP's spirit:
 *   migrate {"uri": "tcp:HOST:PORT", "downtime_ms": 300,
 *            "max_bandwidth": BYTES_PER_S, "auto_converge": false,
 *            "timeout_ms": 0, "max_passes": 50,
 *            "verify": "sent"|"full",
 *            "tls-creds": DIR | "tls-psk": FILE, "tls-hostname": NAME,
 *            "x-lose-dirty-percent": 0 (tests only)} -> {} (started)
 *   query-migrate                                    -> status and figures
 *   migrate-cancel                                   -> {}
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/control.h"
#include "lib/json/json.h"
#include "migrate/migrator.h"
#include "migrate/transport.h"

#define DEFAULT_DOWNTIME_MS 300
#define DEFAULT_MAX_PASSES 50
#define QUERY_WAIT_MAX_MS 1000

/* A string argument, absent (NULL) or refused for its type. */
static int opt_string(const struct json_value *args, const char *key,
		      const char **out, char *err, size_t err_len)
{
	int ret = json_get_string(args, key, out);

	if (ret == -ENOENT) {
		*out = NULL;
		return 0;
	}
	if (ret)
		snprintf(err, err_len, "'%s' must be a string", key);
	return ret;
}

/* The TLS options, and their files loaded once here, so that a missing
 * key fails the command, not the migration it would start. */
static int parse_tls(const struct json_value *args, struct mig_tls_opts *o,
		     char *err, size_t err_len)
{
	const char *creds, *psk, *name;
	struct mig_tls *t;
	int ret = opt_string(args, "tls-creds", &creds, err, err_len);

	ret = ret ?: opt_string(args, "tls-psk", &psk, err, err_len);
	ret = ret ?: opt_string(args, "tls-hostname", &name, err, err_len);
	ret = ret ?: mig_tls_opts_set(o, creds, psk, &name, name ? 1 : 0, err,
				      err_len);
	if (ret || !mig_tls_wanted(o))
		return ret;
	ret = mig_tls_load(o, false, &t, err, err_len);
	mig_tls_free(t);
	return ret;
}

static int parse_params(const struct json_value *args, struct mig_params *p,
			char *err, size_t err_len)
{
	const char *uri, *verify;
	struct mig_uri parsed;
	uint64_t passes = DEFAULT_MAX_PASSES, lose = 0;
	int ret;

	memset(p, 0, sizeof(*p));
	p->downtime_ms = DEFAULT_DOWNTIME_MS;
	p->verify_sent = true;
	if (json_get_string(args, "uri", &uri) < 0) {
		snprintf(err, err_len, "'uri' (tcp:HOST:PORT) is required");
		return -EINVAL;
	}
	ret = mig_uri_parse(uri, &parsed, err, err_len);
	if (ret)
		return ret;
	snprintf(p->uri, sizeof(p->uri), "%s", uri);
	ret = json_opt_u64(args, "downtime_ms", &p->downtime_ms, err, err_len);
	ret = ret ?: json_opt_u64(args, "max_bandwidth", &p->max_bandwidth,
				  err, err_len);
	ret = ret ?: json_opt_u64(args, "timeout_ms", &p->timeout_ms, err,
				  err_len);
	ret = ret ?: json_opt_u64(args, "max_passes", &passes, err, err_len);
	if (!ret && json_get_string(args, "verify", &verify) == 0) {
		p->verify_sent = !strcmp(verify, "sent");
		if (!p->verify_sent && strcmp(verify, "full")) {
			snprintf(err, err_len, "'verify' must be full or sent");
			ret = -EINVAL;
		}
	}
	ret = ret ?: json_opt_bool(args, "auto_converge", &p->auto_converge,
				   err, err_len);
	ret = ret ?: json_opt_u64(args, "x-lose-dirty-percent", &lose, err,
				  err_len);
	if (!ret && lose > 100) {
		snprintf(err, err_len, "'x-lose-dirty-percent' is 0 to 100");
		ret = -EINVAL;
	}
	p->x_lose_dirty_percent = (unsigned int)lose;
	if (!ret && (p->downtime_ms == 0 || passes == 0 || passes > 10000)) {
		snprintf(err, err_len,
			 "'downtime_ms' must be positive and 'max_passes' 1 to 10000");
		ret = -EINVAL;
	}
	p->max_passes = (unsigned int)passes;
	return ret ?: parse_tls(args, &p->tls, err, err_len);
}

static int cmd_migrate(struct vm *vm, void *opaque,
		       const struct json_value *args, struct jw *reply,
		       char *err, size_t err_len)
{
	struct mig_params p;
	int ret = parse_params(args, &p, err, err_len);

	return ret ?: migrator_start(opaque, &p, err, err_len);
}

static int cmd_query_migrate(struct vm *vm, void *opaque,
			     const struct json_value *args, struct jw *reply,
			     char *err, size_t err_len)
{
	uint64_t wait_ms = 0;
	int ret = json_opt_u64(args, "wait_ms", &wait_ms, err, err_len);

	/* The control socket serves its clients from one thread: a wait
	 * holds the others back, so it is short. */
	if (!ret && wait_ms > QUERY_WAIT_MAX_MS) {
		snprintf(err, err_len, "wait_ms: %llu is more than %u",
			 (unsigned long long)wait_ms, QUERY_WAIT_MAX_MS);
		ret = -EINVAL;
	}
	if (!ret)
		migrator_query(opaque, wait_ms, reply);
	return ret;
}

static int cmd_migrate_cancel(struct vm *vm, void *opaque,
			      const struct json_value *args, struct jw *reply,
			      char *err, size_t err_len)
{
	int ret = migrator_cancel(opaque);

	if (ret)
		snprintf(err, err_len, "no migration is running");
	return ret;
}

int migrate_register_commands(struct control *c, void *opaque)
{
	static const struct control_command_spec table[] = {
		{ "migrate",
		  "{uri, downtime_ms?, max_bandwidth?, auto_converge?, timeout_ms?, max_passes?, verify?, tls-creds? | tls-psk?, tls-hostname?}: start a live migration",
		  cmd_migrate },
		{ "query-migrate",
		  "{wait_ms?}: status, progress and statistics of the migration, once it ended, a pass ended or wait_ms passed",
		  cmd_query_migrate },
		{ "migrate-cancel",
		  "cancel the running migration; the guest stays here",
		  cmd_migrate_cancel },
	};

	return control_register_table(c, table, sizeof(table) / sizeof(table[0]),
				      opaque);
}
