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
	"      --json               print the final statistics as one object\n";

struct migrate_opts {
	const char *control;
	const char *to;
	uint64_t downtime_ms, max_bandwidth, timeout_s, max_passes;
	uint64_t x_lose; /* tests only: see mig_params */
	int auto_converge, json;
	const char *verify;
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

static int start(const struct migrate_opts *o)
{
	char args[512], err[256];
	struct json_value *reply = NULL;
	int ret;

	snprintf(args, sizeof(args),
		 "{\"uri\":\"%s\",\"downtime_ms\":%llu,\"max_bandwidth\":%llu,"
		 "\"auto_converge\":%s,\"timeout_ms\":%llu,\"max_passes\":%llu,"
		 "\"verify\":\"%s\",\"x-lose-dirty-percent\":%llu}",
		 o->to, (unsigned long long)o->downtime_ms,
		 (unsigned long long)o->max_bandwidth,
		 o->auto_converge ? "true" : "false",
		 (unsigned long long)o->timeout_s * 1000,
		 (unsigned long long)o->max_passes, o->verify,
		 (unsigned long long)o->x_lose);
	if (strchr(o->to, '"') || strchr(o->to, '\\')) {
		fprintf(stderr, "kvmtrack migrate: bad destination '%s'\n", o->to);
		return -EINVAL;
	}
	ret = control_call(o->control, "migrate", args, &reply, err, sizeof(err));
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
