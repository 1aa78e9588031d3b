// SPDX-License-Identifier: MIT
/*
 * `kvmtrack ctl`: sends one command to a running kvmtrack's control socket
 * and prints the reply's return value as one JSON line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app/cmd.h"
#include "control/client.h"
#include "lib/json/json.h"

static int usage(FILE *f, int status)
{
	fprintf(f,
		"Usage: kvmtrack ctl --control PATH COMMAND [ARGUMENTS-JSON]\n"
		"\n"
		"Sends COMMAND to the control socket PATH of a running kvmtrack\n"
		"and prints its return value as one JSON line.\n"
		"\n"
		"  -s, --control PATH  the control socket (kvmtrack run --control)\n"
		"  -h, --help          show this help\n"
		"\n"
		"ARGUMENTS-JSON is a JSON object, e.g. '{\"limit\": 10}'.\n"
		"\"kvmtrack ctl -s PATH query-commands\" lists the commands.\n");
	return status;
}

/* Checks ARGUMENTS-JSON here so that a typo is a usage error (status 2). */
static bool arguments_ok(const char *json)
{
	struct json_value *v;
	char err[256];
	bool ok;

	if (json_parse(json, strlen(json), &v, err, sizeof(err))) {
		fprintf(stderr, "kvmtrack ctl: ARGUMENTS-JSON: %s\n", err);
		return false;
	}
	ok = v->type == JSON_OBJECT;
	if (!ok)
		fprintf(stderr,
			"kvmtrack ctl: ARGUMENTS-JSON must be a JSON object\n");
	json_free(v);
	return ok;
}

static int print_value(const struct json_value *v)
{
	struct jw w;
	const char *text;
	int status = 0;

	jw_init(&w);
	jw_value(&w, NULL, v);
	text = jw_finish(&w);
	if (!text || printf("%s\n", text) < 0 || fflush(stdout)) {
		fprintf(stderr, "kvmtrack ctl: writing the reply: %s\n",
			strerror(text ? errno : ENOMEM));
		status = 1;
	}
	jw_free(&w);
	return status;
}

int cmd_ctl(int argc, char **argv)
{
	static const struct option options[] = {
		{ "control", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *command, *arguments = NULL;
	struct json_value *result;
	char err[512];
	int opt, ret;

	/* Restart getopt: main() may have used it on the global options. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+s:h", options, NULL)) != -1) {
		if (opt == 's')
			path = optarg;
		else if (opt == 'h')
			return usage(stdout, 0);
		else
			return usage(stderr, 2);
	}
	if (!path || argc - optind < 1 || argc - optind > 2) {
		if (!path)
			fprintf(stderr, "kvmtrack ctl: --control PATH is required\n");
		return usage(stderr, 2);
	}
	command = argv[optind];
	if (argc - optind == 2) {
		arguments = argv[optind + 1];
		if (!arguments_ok(arguments))
			return usage(stderr, 2);
	}
	ret = control_call(path, command, arguments, &result, err, sizeof(err));
	if (ret == -EREMOTEIO) {
		fprintf(stderr, "kvmtrack ctl: %s: %s\n", command, err);
		return 1;
	}
	if (ret) {
		fprintf(stderr, "kvmtrack ctl: %s\n", err);
		return 1;
	}
	ret = print_value(result);
	json_free(result);
	return ret;
}
