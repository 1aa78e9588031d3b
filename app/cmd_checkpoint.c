// SPDX-License-Identifier: MIT
/*
 * `kvmtrack checkpoint --control PATH --to DIR [--incremental] [--stop]
 * [--json] [--mac-psk FILE]`: asks the kvmtrack behind a control socket for one checkpoint
 * of its guest into the chain in DIR (checkpoint/), and prints what it
 * took. `kvmtrack checkpoint-info DIR` lists a chain.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/cmd.h"
#include "checkpoint/chain.h"
#include "checkpoint/mac.h"
#include "checkpoint/merge.h"
#include "control/client.h"
#include "lib/clock.h"
#include "lib/json/json.h"
#include "lib/parse.h"

/* A full checkpoint of a large guest writes all its memory and syncs it. */
#define CHECKPOINT_TIMEOUT_MS (30 * 60 * 1000)

static const char usage[] =
    "Usage: kvmtrack checkpoint --control PATH --to DIR [options]\n"
    "  -s, --control PATH   control socket of the kvmtrack running the guest\n"
    "      --to DIR         the chain's directory (made if missing)\n"
    "      --incremental    hold only the pages written since the chain's\n"
    "                       last checkpoint (the first one is full anyway)\n"
    "      --stop           leave the guest paused afterwards\n"
    "      --max-pause-ms MS  the pause to aim at: pages are copied again\n"
    "                       while the guest runs until the rest fits (5)\n"
    "      --max-passes N   live copy passes at most, then pause anyway (8)\n"
    "      --every DURATION take one every DURATION (500ms, 1s, 2m) until\n"
    "                       interrupted or the guest ends, one line each;\n"
    "                       all but the first are incremental\n"
    "      --keep N         with --every: keep the chain at N checkpoints,\n"
    "                       older ones merged into its base\n"
    "      --mac-psk FILE   authenticate the layer with a keyed MAC under the\n"
    "                       first key of FILE (keys.psk: identity:hexkey)\n"
    "      --json           print the result as one JSON object\n";

struct ckpt_opts {
	const char *control, *to;
	char mac_psk[PATH_MAX]; /* absolute: the guest's kvmtrack reads it */
	bool incremental, stop, json;
	uint64_t max_pause_ms, max_passes;
	uint64_t every_ms, keep;
};

/* "500ms", "1s", "1.5s", "2m", "1h"; seconds without a unit. */
static int parse_duration_ms(const char *text, uint64_t *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {
	    {"ms", 1}, {"s", 1000}, {"", 1000}, {"m", 60000}, {"h", 3600000},
	};
	char *end;
	double v = strtod(text, &end);

	for (unsigned int i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (end != text && !strcmp(end, units[i].unit) && v > 0 &&
		    v * units[i].ms >= 10 && v * units[i].ms <= 86400000.0) {
			*ms = (uint64_t)(v * units[i].ms + 0.5);
			return 0;
		}
	return -EINVAL;
}

static int parse_opts(int argc, char **argv, struct ckpt_opts *o)
{
	static const struct option opts[] = {
	    {"control", required_argument, NULL, 's'},
	    {"to", required_argument, NULL, 't'},
	    {"incremental", no_argument, NULL, 'i'},
	    {"stop", no_argument, NULL, 'S'},
	    {"json", no_argument, NULL, 'j'},
	    {"max-pause-ms", required_argument, NULL, 'P'},
	    {"max-passes", required_argument, NULL, 'p'},
	    {"every", required_argument, NULL, 'e'},
	    {"keep", required_argument, NULL, 'k'},
	    {"mac-psk", required_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct ckpt_opts){.max_pause_ms = 5, .max_passes = 8};
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 's':
			o->control = optarg;
			break;
		case 't':
			o->to = optarg;
			break;
		case 'i':
			o->incremental = true;
			break;
		case 'S':
			o->stop = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'P':
			bad = parse_uint(optarg, 1, 3600000, &o->max_pause_ms);
			break;
		case 'p':
			bad = parse_uint(optarg, 1, 10000, &o->max_passes);
			break;
		case 'e':
			bad = parse_duration_ms(optarg, &o->every_ms);
			break;
		case 'k':
			bad = parse_uint(optarg, 1, 100000, &o->keep);
			break;
		case 'M':
			if (!realpath(optarg, o->mac_psk)) {
				fprintf(stderr,
					"kvmtrack checkpoint: --mac-psk %s: %s\n",
					optarg, strerror(errno));
				return -EINVAL;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return -EINVAL;
		}
		if (bad) {
			fprintf(stderr,
				"kvmtrack checkpoint: bad value for %s\n%s",
				argv[optind - 1], usage);
			return -EINVAL;
		}
	}
	if (!o->control || !o->to || optind != argc ||
	    (o->keep && !o->every_ms) || (o->every_ms && o->stop)) {
		fprintf(stderr, "kvmtrack checkpoint: %s\n%s",
			optind != argc ? "unexpected argument"
			: !o->control  ? "--control is required"
			: !o->to       ? "--to is required"
			: o->stop      ? "--stop cannot go with --every"
				       : "--keep needs --every",
			usage);
		return -EINVAL;
	}
	return 0;
}

/* A number of the reply (0 if absent). */
static double number(const struct json_value *r, const char *key)
{
	const struct json_value *v = json_get(r, key);

	return v && v->type == JSON_NUMBER ? v->number : 0;
}

static void print_summary(const struct json_value *r, const char *dir,
			  const char *tail)
{
	const char *name = "?", *parent = NULL, *digest = "?";

	json_get_string(r, "name", &name);
	json_get_string(r, "parent", &parent);
	json_get_string(r, "digest", &digest);
	printf("checkpoint %s/%s (%s%s): %.0f pages, %.1f MiB, guest paused "
	       "%.1f ms after %.0f live passes, %.1f ms in all, digest %s%s\n",
	       dir, name, parent ? "incremental after " : "full",
	       parent ? parent : "", number(r, "pages"),
	       number(r, "bytes") / 1048576.0, number(r, "pause_ms"),
	       number(r, "passes"), number(r, "total_ms"), digest, tail);
}

static void print_json(const struct json_value *r)
{
	struct jw w;

	jw_init(&w);
	jw_value(&w, NULL, r);
	puts(jw_finish(&w) ? jw_finish(&w) : "{}");
	jw_free(&w);
}

/*
 * --keep: the chain of the newest checkpoint is cut to `keep` by merging
 * the older ones into its base. What was done goes into what (empty when
 * nothing).
 */
static int keep_last(const char *dir, uint64_t keep,
		     const struct ckpt_keys *keys, char *what, size_t what_len,
		     char *err, size_t err_len)
{
	char newest[CKPT_NAME_MAX];
	struct ckpt_layer *layers = NULL;
	struct ckpt_merge_result res;
	unsigned int nr = 0;
	int ret = ckpt_chain_newest(dir, newest, err, err_len);

	what[0] = '\0';
	ret = ret ?: ckpt_chain_resolve(dir, newest, keys, &layers, &nr, err,
				       err_len);
	if (!ret && nr > keep) {
		ret = ckpt_merge(dir, layers[nr - keep].m.name, keys, &res,
				 err, err_len);
		if (!ret)
			snprintf(
			    what, what_len,
			    "; %s to %s merged into one (%llu pages, %.1f ms)",
			    layers[0].m.name, layers[nr - keep].m.name,
			    (unsigned long long)res.pages_written,
			    res.ns / 1e6);
	}
	free(layers);
	return ret;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* Until the next tick; false when interrupted first. */
static bool sleep_until(uint64_t when_ns)
{
	struct timespec ts = {.tv_sec = (time_t)(when_ns / 1000000000ull),
			      .tv_nsec = (long)(when_ns % 1000000000ull)};

	while (!interrupted && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
					       &ts, NULL) == EINTR)
		;
	return !interrupted;
}

static int take_one(const struct ckpt_opts *o, bool incremental,
		    struct json_value **reply, char *err, size_t err_len);

/*
 * --every: one checkpoint a tick, on a fixed schedule from the first.
 * A tick whose time passed while the one before ran is missed (counted
 * and said), not run late. Ends on SIGINT or SIGTERM, or when the guest
 * ends.
 */
static int checkpoint_every(const struct ckpt_opts *o)
{
	struct sigaction sa = {.sa_handler = on_signal};
	uint64_t every_ns = o->every_ms * 1000000ull, next = clock_now_ns();
	uint64_t taken = 0, missed = 0;
	struct ckpt_keys *keys = NULL;
	char err[1024], what[160];
	int status = 0;

	/* --keep merges here: the layers' MACs are checked and made again. */
	if (o->keep && o->mac_psk[0] &&
	    ckpt_keys_load(o->mac_psk, &keys, err, sizeof(err))) {
		fprintf(stderr, "kvmtrack checkpoint: %s\n", err);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (bool incremental = o->incremental; !interrupted;
	     incremental = true) {
		struct json_value *reply = NULL;
		int ret = take_one(o, incremental, &reply, err, sizeof(err));

		if (ret == -ENOENT || ret == -ECONNREFUSED) {
			fprintf(stderr,
				"kvmtrack checkpoint: the guest's kvmtrack is "
				"gone (%s)\n",
				err);
			status = taken ? 0 : 1;
			break;
		}
		ret = ret
			  ?: o->keep ? keep_last(o->to, o->keep, keys, what,
						 sizeof(what), err, sizeof(err))
				     : (what[0] = '\0', 0);
		if (ret) {
			fprintf(stderr, "kvmtrack checkpoint: %s\n", err);
			json_free(reply);
			status = 1;
			break;
		}
		taken++;
		if (o->json)
			print_json(reply);
		else
			print_summary(reply, o->to, what);
		fflush(stdout);
		json_free(reply);
		for (next += every_ns; next < clock_now_ns(); next += every_ns)
			missed++;
		if (!sleep_until(next))
			break;
	}
	fprintf(stderr,
		"kvmtrack checkpoint: %llu checkpoints every %llu ms, %llu "
		"ticks missed\n",
		(unsigned long long)taken, (unsigned long long)o->every_ms,
		(unsigned long long)missed);
	ckpt_keys_free(keys);
	return status;
}

/* One checkpoint through the control socket: 0 and *reply, or -errno
 * and err. */
static int take_one(const struct ckpt_opts *o, bool incremental,
		    struct json_value **reply, char *err, size_t err_len)
{
	struct jw args;
	int ret;

	jw_init(&args);
	jw_object_begin(&args, NULL);
	jw_string(&args, "to", o->to);
	jw_bool(&args, "incremental", incremental);
	jw_bool(&args, "stop", o->stop);
	jw_u64(&args, "max_pause_ms", o->max_pause_ms);
	jw_u64(&args, "max_passes", o->max_passes);
	if (o->mac_psk[0])
		jw_string(&args, "mac_psk", o->mac_psk);
	jw_object_end(&args);
	ret = control_call_timeout(o->control, "checkpoint", jw_finish(&args),
				   CHECKPOINT_TIMEOUT_MS, reply, err, err_len);
	jw_free(&args);
	return ret;
}

int cmd_checkpoint(int argc, char **argv)
{
	struct json_value *reply = NULL;
	struct ckpt_opts o;
	char err[1024];

	if (parse_opts(argc, argv, &o))
		return 2;
	if (o.every_ms)
		return checkpoint_every(&o);
	if (take_one(&o, o.incremental, &reply, err, sizeof(err))) {
		fprintf(stderr, "kvmtrack checkpoint: %s\n", err);
		return 1;
	}
	if (o.json)
		print_json(reply);
	else
		print_summary(reply, o.to, "");
	json_free(reply);
	return 0;
}
