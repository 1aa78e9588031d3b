// SPDX-License-Identifier: MIT
/*
 * `kvmtrack dirtyrate`: asks a running kvmtrack (its control socket) to
 * measure the guest's dirty rate with "calc-dirty-rate", then prints the
 * result as tables, as JSON, or writes it to a JSON file and an SVG plot.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cmd.h"
#include "app/dirtyrate_print.h"
#include "control/client.h"
#include "dirtyrate/dirtyrate.h"
#include "lib/json/json.h"
#include "lib/parse.h"

/* Room for the harvests, hashing and the socket beyond the window. */
#define REPLY_MARGIN_MS 15000

struct dirtyrate_opts {
	const char *path;
	struct dirtyrate_request req;
	bool json;
	const char *output_path;
	const char *svg_path;
};

static int usage(FILE *f, int status)
{
	fprintf(f,
		"Usage: kvmtrack dirtyrate --control PATH [options]\n"
		"\n"
		"Measures the dirty rate of the guest of a running `kvmtrack run\n"
		"--control PATH`: pages written in a window, total, per memslot and\n"
		"(ring mode) per vCPU. The VM's control socket answers nothing else\n"
		"while it measures.\n"
		"\n"
		"  -s, --control PATH      the control socket\n"
		"  -p, --period DURATION   window: 1s, 500ms, 1.5s, 2 (seconds; default 1s)\n"
		"  -m, --mode MODE         bitmap: the VM's dirty log (default);\n"
		"                          ring: the dirty ring, with per-vCPU counts\n"
		"                            (needs `kvmtrack run --dirty-log ring`);\n"
		"                          sample: hash random pages, no logging\n"
		"      --per-vcpu          per-vCPU counts in bitmap mode (ring backend)\n"
		"      --wss               working-set curve: distinct pages dirtied in\n"
		"                          windows of 10 ms, 20 ms ... 10 s (takes 10 s;\n"
		"                          replaces --period)\n"
		"      --wss-max DURATION  longest window of the curve (default 10s)\n"
		"      --sample-pages N    sample mode: pages hashed per GiB (default %u)\n"
		"      --seed N            sample mode: seed of the page choice\n"
		"      --range GPA,SIZE    also count a guest-physical range alone\n"
		"      --json              print the result as one JSON line\n"
		"  -o, --output FILE       also write the JSON result to FILE\n"
		"      --svg FILE          with --wss: plot the curve into FILE (SVG)\n"
		"  -h, --help              show this help\n"
		"\n"
		"If dirty logging is off, it is switched on for the window and off\n"
		"again. Exit status: 0, 1 (socket or measurement error), 2 (usage).\n",
		DIRTYRATE_DEFAULT_SAMPLE_PAGES);
	return status;
}

static int parse_range(const char *text, struct dirtyrate_request *req)
{
	const char *comma = strchr(text, ',');
	char gpa[64];

	if (!comma || (size_t)(comma - text) >= sizeof(gpa))
		return -EINVAL;
	memcpy(gpa, text, (size_t)(comma - text));
	gpa[comma - text] = '\0';
	if (parse_size(gpa, &req->range_gpa) ||
	    parse_size(comma + 1, &req->range_bytes) || !req->range_bytes)
		return -EINVAL;
	return 0;
}

enum { OPT_PER_VCPU = 256, OPT_WSS, OPT_WSS_MAX, OPT_SAMPLE_PAGES, OPT_SEED,
       OPT_RANGE, OPT_JSON, OPT_SVG };

static int parse_one(int opt, const char *arg, struct dirtyrate_opts *o)
{
	char err[256];
	uint64_t n;

	switch (opt) {
	case 's':
		o->path = arg;
		return 0;
	case 'p':
	case OPT_WSS_MAX:
		if (!dirtyrate_parse_duration(arg, opt == 'p' ? &o->req.period_ms :
							&o->req.wss_max_ms,
					      err, sizeof(err)))
			return 0;
		fprintf(stderr, "kvmtrack dirtyrate: %s %s\n",
			opt == 'p' ? "--period" : "--wss-max", err);
		return -EINVAL;
	case 'm':
		if (!dirtyrate_parse_mode(arg, &o->req.mode))
			return 0;
		fprintf(stderr,
			"kvmtrack dirtyrate: --mode '%s': expected bitmap, ring or sample\n",
			arg);
		return -EINVAL;
	case OPT_SAMPLE_PAGES:
		if (!parse_uint(arg, 1, DIRTYRATE_MAX_SAMPLE_PAGES, &n)) {
			o->req.sample_pages = (uint32_t)n;
			return 0;
		}
		fprintf(stderr,
			"kvmtrack dirtyrate: --sample-pages '%s': expected 1 to %u (pages per GiB)\n",
			arg, DIRTYRATE_MAX_SAMPLE_PAGES);
		return -EINVAL;
	case OPT_SEED:
		o->req.have_seed = true;
		if (!parse_uint(arg, 0, UINT64_MAX, &o->req.seed))
			return 0;
		fprintf(stderr, "kvmtrack dirtyrate: --seed '%s': expected an unsigned integer\n",
			arg);
		return -EINVAL;
	case OPT_RANGE:
		if (!parse_range(arg, &o->req))
			return 0;
		fprintf(stderr,
			"kvmtrack dirtyrate: --range '%s': expected GPA,SIZE, e.g. 0x400000,512M\n",
			arg);
		return -EINVAL;
	case OPT_PER_VCPU:
		o->req.per_vcpu = true;
		return 0;
	case OPT_WSS:
		o->req.wss = true;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case 'o':
		o->output_path = arg;
		return 0;
	case OPT_SVG:
		o->svg_path = arg;
		return 0;
	}
	return -EINVAL;
}

/* 0, 1 for --help (status 0), or -EINVAL for a usage error. */
static int parse_args(int argc, char **argv, struct dirtyrate_opts *o)
{
	static const struct option options[] = {
		{ "control", required_argument, NULL, 's' },
		{ "period", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "per-vcpu", no_argument, NULL, OPT_PER_VCPU },
		{ "wss", no_argument, NULL, OPT_WSS },
		{ "wss-max", required_argument, NULL, OPT_WSS_MAX },
		{ "sample-pages", required_argument, NULL, OPT_SAMPLE_PAGES },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "range", required_argument, NULL, OPT_RANGE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "output", required_argument, NULL, 'o' },
		{ "svg", required_argument, NULL, OPT_SVG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*o = (struct dirtyrate_opts){ .req = {
		.mode = DIRTYRATE_BITMAP,
		.period_ms = DIRTYRATE_DEFAULT_PERIOD_MS,
		.wss_max_ms = DIRTYRATE_DEFAULT_WSS_MAX_MS,
		.sample_pages = DIRTYRATE_DEFAULT_SAMPLE_PAGES,
	} };
	optind = 0; /* main() may have used getopt */
	while ((opt = getopt_long(argc, argv, "+s:p:m:o:h", options, NULL)) != -1) {
		if (opt == 'h')
			return 1;
		if (opt == '?' || parse_one(opt, optarg, o))
			return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "kvmtrack dirtyrate: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	if (!o->path) {
		fprintf(stderr, "kvmtrack dirtyrate: --control PATH is required\n");
		return -EINVAL;
	}
	if (o->svg_path && !o->req.wss) {
		fprintf(stderr, "kvmtrack dirtyrate: --svg needs --wss\n");
		return -EINVAL;
	}
	if (o->req.mode == DIRTYRATE_SAMPLE && (o->req.wss || o->req.per_vcpu)) {
		fprintf(stderr,
			"kvmtrack dirtyrate: %s needs the dirty log: use --mode bitmap or ring\n",
			o->req.wss ? "--wss" : "--per-vcpu");
		return -EINVAL;
	}
	return 0;
}

/* The request's arguments, as the control command takes them. */
static char *request_json(const struct dirtyrate_request *req)
{
	struct jw w;
	char *text;

	jw_init(&w);
	jw_object_begin(&w, NULL);
	jw_string(&w, "mode", dirtyrate_mode_name(req->mode));
	jw_u64(&w, "period_ms", req->period_ms);
	jw_bool(&w, "per_vcpu", req->per_vcpu);
	jw_bool(&w, "wss", req->wss);
	jw_u64(&w, "wss_max_ms", req->wss_max_ms);
	jw_u64(&w, "sample_pages", req->sample_pages);
	if (req->have_seed)
		jw_u64(&w, "seed", req->seed);
	if (req->range_bytes) {
		jw_u64(&w, "range_gpa", req->range_gpa);
		jw_u64(&w, "range_bytes", req->range_bytes);
	}
	jw_object_end(&w);
	text = jw_finish(&w) ? strdup(w.buf) : NULL;
	jw_free(&w);
	return text;
}

static int call(const struct dirtyrate_opts *o, struct json_value **result)
{
	uint64_t window = o->req.wss ? o->req.wss_max_ms : o->req.period_ms;
	char err[512], *args = request_json(&o->req);
	int ret;

	if (!args) {
		fprintf(stderr, "kvmtrack dirtyrate: out of memory\n");
		return -ENOMEM;
	}
	ret = control_call_timeout(o->path, "calc-dirty-rate", args,
				   (int)(window + REPLY_MARGIN_MS), result, err,
				   sizeof(err));
	free(args);
	if (ret == -EREMOTEIO)
		fprintf(stderr, "kvmtrack dirtyrate: %s\n", err);
	else if (ret)
		fprintf(stderr, "kvmtrack dirtyrate: %s\n", err);
	return ret;
}

static int write_outputs(const struct dirtyrate_opts *o,
			 const struct json_value *result)
{
	int ret = 0;

	if (o->output_path)
		ret = dirtyrate_write_json_file(o->output_path, result);
	if (!ret && o->svg_path)
		ret = dirtyrate_write_svg(o->svg_path, o->path, result);
	if (ret)
		return ret;
	if (o->json)
		return dirtyrate_print_json(stdout, result);
	return dirtyrate_print_tables(stdout, o->path, result);
}

int cmd_dirtyrate(int argc, char **argv)
{
	struct dirtyrate_opts o;
	struct json_value *result;
	int ret = parse_args(argc, argv, &o);

	if (ret)
		return ret > 0 ? usage(stdout, 0) : usage(stderr, 2);
	if (call(&o, &result))
		return 1;
	ret = write_outputs(&o, result);
	json_free(result);
	return ret ? 1 : 0;
}
