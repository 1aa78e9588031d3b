// SPDX-License-Identifier: MIT
/*
 * `kvmtrack checkpoint --control PATH --to DIR [--incremental] [--stop]
 * [--json]`: asks the kvmtrack behind a control socket for one checkpoint
 * of its guest into the chain in DIR (checkpoint/), and prints what it
 * took. `kvmtrack checkpoint-info DIR` lists a chain.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/cmd.h"
#include "checkpoint/chain.h"
#include "control/client.h"
#include "lib/json/json.h"

/* A full checkpoint of a large guest writes all its memory and syncs it. */
#define CHECKPOINT_TIMEOUT_MS (30 * 60 * 1000)

static const char usage[] =
	"Usage: kvmtrack checkpoint --control PATH --to DIR [options]\n"
	"  -s, --control PATH   control socket of the kvmtrack running the guest\n"
	"      --to DIR         the chain's directory (made if missing)\n"
	"      --incremental    hold only the pages written since the chain's\n"
	"                       last checkpoint (the first one is full anyway)\n"
	"      --stop           leave the guest paused afterwards\n"
	"      --json           print the result as one JSON object\n"
	"(--every and --keep are not there yet.)\n";

struct ckpt_opts {
	const char *control, *to;
	bool incremental, stop, json;
};

static int parse_opts(int argc, char **argv, struct ckpt_opts *o)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 's' },
		{ "to", required_argument, NULL, 't' },
		{ "incremental", no_argument, NULL, 'i' },
		{ "stop", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct ckpt_opts){ 0 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': o->control = optarg; break;
		case 't': o->to = optarg; break;
		case 'i': o->incremental = true; break;
		case 'S': o->stop = true; break;
		case 'j': o->json = true; break;
		case 'h': fputs(usage, stdout); exit(0);
		default:
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	if (!o->control || !o->to || optind != argc) {
		fprintf(stderr, "kvmtrack checkpoint: %s\n%s",
			optind != argc ? "unexpected argument" :
			!o->control ? "--control is required" : "--to is required",
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

static void print_summary(const struct json_value *r, const char *dir)
{
	const char *name = "?", *parent = NULL, *digest = "?";

	json_get_string(r, "name", &name);
	json_get_string(r, "parent", &parent);
	json_get_string(r, "digest", &digest);
	printf("checkpoint %s/%s (%s%s): %.0f pages, %.1f MiB, guest paused %.1f ms, %.1f ms in all, digest %s\n",
	       dir, name, parent ? "incremental after " : "full",
	       parent ? parent : "", number(r, "pages"),
	       number(r, "bytes") / 1048576.0, number(r, "pause_ms"),
	       number(r, "total_ms"), digest);
}

static void print_json(const struct json_value *r)
{
	struct jw w;

	jw_init(&w);
	jw_value(&w, NULL, r);
	puts(jw_finish(&w) ? jw_finish(&w) : "{}");
	jw_free(&w);
}

int cmd_checkpoint(int argc, char **argv)
{
	struct json_value *reply = NULL;
	struct ckpt_opts o;
	char err[1024];
	struct jw args;
	int ret;

	if (parse_opts(argc, argv, &o))
		return 2;
	jw_init(&args);
	jw_object_begin(&args, NULL);
	jw_string(&args, "to", o.to);
	jw_bool(&args, "incremental", o.incremental);
	jw_bool(&args, "stop", o.stop);
	jw_object_end(&args);
	ret = control_call_timeout(o.control, "checkpoint", jw_finish(&args),
				   CHECKPOINT_TIMEOUT_MS, &reply, err,
				   sizeof(err));
	jw_free(&args);
	if (ret) {
		fprintf(stderr, "kvmtrack checkpoint: %s\n", err);
		return 1;
	}
	if (o.json)
		print_json(reply);
	else
		print_summary(reply, o.to);
	json_free(reply);
	return 0;
}
