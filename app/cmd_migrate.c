// SPDX-License-Identifier: MIT
/*
 * `kvmtrack migrate --control PATH --to tcp:HOST:PORT [options]`: starts a
 * live migration of the guest behind a control socket, shows its progress
 * on stderr, and prints the final statistics (one JSON object with --json).
 * Exit status 0 only when the guest runs at the destination, verified.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cmd.h"
#include "control/client.h"
#include "lib/json/json.h"
#include "lib/parse.h"

static const char usage[] =
	"Usage: kvmtrack migrate --control PATH --to tcp:HOST:PORT [options]\n"
	"  -s, --control PATH       control socket of the source kvmtrack\n"
	"      --to URI             destination: tcp:HOST:PORT\n"
	"      --downtime-ms N      longest acceptable downtime (default 300)\n"
	"      --max-bandwidth RATE bytes/s, K/M/G suffixes (default: no cap)\n"
	"      --auto-converge      throttle the guest if it dirties too fast\n"
	"      --timeout SECONDS    fail if not switched over by then\n"
	"      --max-passes N       switch over after N passes (default 50)\n"
	"      --verify sent|full   sent (default): digest of the pages as sent, and\n"
	"                           a spot check of pages read again when stopped;\n"
	"                           full: re-read all memory with the guest stopped\n"
	"      --tls-creds DIR      TLS 1.3 with x509 in QEMU's layout (ca-cert.pem,\n"
	"                           client-cert.pem, client-key.pem)\n"
	"      --tls-hostname NAME  the name the destination's certificate must\n"
	"                           carry (default: HOST of --to)\n"
	"      --tls-psk FILE       TLS 1.3 with a pre-shared key, FILE as QEMU's\n"
	"                           keys.psk (identity:hexkey; the first line's)\n"
	"      --json               print the final statistics as one object\n";

struct migrate_opts {
	const char *control;
	const char *to;
	uint64_t downtime_ms, max_bandwidth, timeout_s, max_passes;
	uint64_t x_lose; /* tests only: see mig_params */
	int auto_converge, json;
	const char *verify;
	const char *tls_creds, *tls_psk, *tls_hostname;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = sig;
}

static int parse_opts(int argc, char **argv, struct migrate_opts *o)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 's' },
		{ "to", required_argument, NULL, 't' },
		{ "downtime-ms", required_argument, NULL, 'd' },
		{ "max-bandwidth", required_argument, NULL, 'b' },
		{ "auto-converge", no_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "max-passes", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "verify", required_argument, NULL, 'v' },
		{ "x-lose-dirty-percent", required_argument, NULL, 'x' },
		{ "tls-creds", required_argument, NULL, 'C' },
		{ "tls-psk", required_argument, NULL, 'P' },
		{ "tls-hostname", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct migrate_opts){ .downtime_ms = 300, .max_passes = 50,
				    .verify = "sent" };
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 's': o->control = optarg; break;
		case 't': o->to = optarg; break;
		case 'd': bad = parse_uint(optarg, 1, 3600000, &o->downtime_ms); break;
		case 'b': bad = parse_size(optarg, &o->max_bandwidth); break;
		case 'a': o->auto_converge = 1; break;
		case 'T': bad = parse_uint(optarg, 1, 86400, &o->timeout_s); break;
		case 'p': bad = parse_uint(optarg, 1, 10000, &o->max_passes); break;
		case 'j': o->json = 1; break;
		case 'x': bad = parse_uint(optarg, 0, 100, &o->x_lose); break;
		case 'C': o->tls_creds = optarg; break;
		case 'P': o->tls_psk = optarg; break;
		case 'H': o->tls_hostname = optarg; break;
		case 'v':
			o->verify = optarg;
			bad = strcmp(optarg, "full") && strcmp(optarg, "sent") ? -EINVAL : 0;
			break;
		case 'h': fputs(usage, stdout); exit(0);
		default: bad = -EINVAL;
		}
		if (bad) {
			fprintf(stderr, "kvmtrack migrate: bad value for %s\n%s",
				argv[optind - 1], usage);
			return -EINVAL;
		}
	}
	if (!o->control || !o->to || optind != argc) {
		fprintf(stderr, "kvmtrack migrate: %s\n%s",
			optind != argc ? "unexpected argument" :
			!o->control ? "--control is required" : "--to is required",
			usage);
		return -EINVAL;
	}
	return 0;
}

static uint64_t field(const struct json_value *v, const char *key)
{
	uint64_t n = 0;

	json_get_u64(v, key, &n);
	return n;
}

static void show_progress(const struct json_value *q, unsigned int *last_pass)
{
	unsigned int pass = (unsigned int)field(q, "passes");

	if (pass == *last_pass)
		return;
	*last_pass = pass;
	fprintf(stderr,
		"pass %u: transferred %.1f MiB, remaining %.1f MiB, dirty rate %llu pages/s, "
		"bandwidth %.1f MiB/s, expected downtime %llu ms\n",
		pass, field(q, "transferred_bytes") / 1048576.0,
		field(q, "remaining_bytes") / 1048576.0,
		(unsigned long long)field(q, "dirty_pages_rate"),
		field(q, "bandwidth") / 1048576.0,
		(unsigned long long)field(q, "expected_downtime_ms"));
}

static void print_summary(const struct json_value *q, const char *status)
{
	const char *reason = NULL, *error = NULL;

	json_get_string(q, "switchover", &reason);
	json_get_string(q, "error", &error);
	printf("migration %s\n", status);
	if (error)
		printf("  error            %s\n", error);
	printf("  total            %llu ms (setup %llu ms)\n"
	       "  downtime         %.3f ms\n"
	       "  transferred      %.1f MiB in %llu passes\n"
	       "  pages            %llu normal (%llu of them sparse), %llu zero, %llu never touched (skipped)\n"
	       "  throttle         %llu%%\n"
	       "  memory verified  %s\n",
	       (unsigned long long)field(q, "total_ms"),
	       (unsigned long long)field(q, "setup_ms"),
	       field(q, "downtime_us") / 1000.0,
	       field(q, "transferred_bytes") / 1048576.0,
	       (unsigned long long)field(q, "passes"),
	       (unsigned long long)field(q, "normal_pages"),
	       (unsigned long long)field(q, "sparse_pages"),
	       (unsigned long long)field(q, "zero_pages"),
	       (unsigned long long)field(q, "skipped_pages"),
	       (unsigned long long)field(q, "throttle_percent"),
	       strcmp(status, "completed") ? "no" : "yes (digest matched)");
	if (reason)
		printf("  switch-over      %s\n", reason);
}

/* A path as the source kvmtrack, in its own directory, can open it. */
static void put_path(struct jw *w, const char *key, const char *path)
{
	char *abs = path ? realpath(path, NULL) : NULL;

	/* A path that does not resolve goes as given: the source names it
	 * in its refusal. */
	if (path)
		jw_string(w, key, abs ? abs : path);
	free(abs);
}

static int start(const struct migrate_opts *o)
{
	struct json_value *reply = NULL;
	const char *args;
	char err[256];
	struct jw w;
	int ret;

	jw_init(&w);
	jw_object_begin(&w, NULL);
	jw_string(&w, "uri", o->to);
	jw_u64(&w, "downtime_ms", o->downtime_ms);
	jw_u64(&w, "max_bandwidth", o->max_bandwidth);
	jw_bool(&w, "auto_converge", o->auto_converge);
	jw_u64(&w, "timeout_ms", o->timeout_s * 1000);
	jw_u64(&w, "max_passes", o->max_passes);
	jw_string(&w, "verify", o->verify);
	jw_u64(&w, "x-lose-dirty-percent", o->x_lose);
	put_path(&w, "tls-creds", o->tls_creds);
	put_path(&w, "tls-psk", o->tls_psk);
	if (o->tls_hostname)
		jw_string(&w, "tls-hostname", o->tls_hostname);
	jw_object_end(&w);
	args = jw_finish(&w);
	ret = args ? control_call(o->control, "migrate", args, &reply, err,
				  sizeof(err)) : -ENOMEM;
	if (!args)
		snprintf(err, sizeof(err), "out of memory");
	jw_free(&w);
	json_free(reply);
	if (ret)
		fprintf(stderr, "kvmtrack migrate: %s\n", err);
	return ret;
}

/*
 * Each query waits at the source for the migration or its pass to end, so
 * this shows every pass and ends as soon as the migration does, with no
 * polling in between; a quarter of a second at most, for Ctrl-C.
 */
#define QUERY_WAIT "{\"wait_ms\":250}"

/* Follows query-migrate until the migration ends; returns the last reply. */
static struct json_value *follow(const struct migrate_opts *o)
{
	unsigned int last_pass = 0;
	bool cancel_sent = false;
	char err[256];

	for (;;) {
		struct json_value *q = NULL;
		const char *status = "";

		if (interrupted && !cancel_sent) {
			struct json_value *r = NULL;

			control_call(o->control, "migrate-cancel", NULL, &r, err,
				     sizeof(err));
			json_free(r);
			cancel_sent = true;
		}
		if (control_call(o->control, "query-migrate", QUERY_WAIT,
				 &q, err, sizeof(err))) {
			/* Most often the source kvmtrack has ended: its
			 * guest stopped (or was stopped) mid-migration. */
			fprintf(stderr,
				"kvmtrack migrate: the source stopped answering while the migration ran (%s): has it ended?\n",
				err);
			return NULL;
		}
		json_get_string(q, "status", &status);
		if (!strcmp(status, "completed") || !strcmp(status, "failed") ||
		    !strcmp(status, "cancelled"))
			return q;
		if (!o->json)
			show_progress(q, &last_pass);
		json_free(q);
	}
}

int cmd_migrate(int argc, char **argv)
{
	struct migrate_opts o;
	struct json_value *q;
	const char *status = "";
	int ok;

	if (parse_opts(argc, argv, &o))
		return 2;
	signal(SIGINT, on_sigint);
	if (start(&o))
		return 1;
	q = follow(&o);
	if (!q)
		return 1;
	json_get_string(q, "status", &status);
	ok = !strcmp(status, "completed");
	if (o.json) {
		struct jw w;

		jw_init(&w);
		jw_value(&w, NULL, q);
		puts(jw_finish(&w) ? jw_finish(&w) : "{}");
		jw_free(&w);
	} else {
		print_summary(q, status);
	}
	json_free(q);
	return ok ? 0 : 1;
}
