// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the control socket's JSON parser and command dispatch
 * (lib/json/, control/commands.c through control_handle_line(), as
 * server.c hands it each line). The input is what a client sends: lines
 * of requests, each answered by the built-in commands, the alias commands
 * over a machine without aliases, and an "echo" command that reads its
 * arguments the way handlers do.
 *
 * Properties beside the sanitizers': every reply is one valid JSON
 * object, and a value the parser took, written back out, parses again.
 */
#include <stdlib.h>
#include <string.h>

#include "control/control.h"
#include "lib/json/json.h"
#include "tests/fuzz/fuzz.h"
#include "vmm/alias/alias.h"

static struct control *ctl;
static struct guest_mem mem;

/* Reads its arguments as handlers do and sends them back. */
static int cmd_echo(struct vm *vm, void *opaque, const struct json_value *args,
		    struct jw *reply, char *err, size_t err_len)
{
	uint64_t n = 0;
	bool flag = false;
	const char *s;
	int ret = json_opt_u64(args, "n", &n, err, err_len);

	ret = ret ?: json_opt_bool(args, "flag", &flag, err, err_len);
	if (ret)
		return ret;
	json_get_string(args, "s", &s);
	jw_value(reply, NULL, args);
	return 0;
}

static void setup(void)
{
	if (control_create(NULL, &ctl) ||
	    control_register(ctl, "echo", "its arguments", cmd_echo, NULL) ||
	    guest_mem_plan(&mem, 64ull << 20) ||
	    alias_register_commands(ctl, &mem))
		abort();
}

/* A text that must be one JSON value: it parses, and to an object when
 * want_object. */
static void must_parse(const char *text, size_t len, bool want_object)
{
	struct json_value *v;
	char err[128];

	if (json_parse(text, len, &v, err, sizeof(err)))
		abort();
	if (want_object && !json_get(v, "return") && !json_get(v, "error"))
		abort();
	json_free(v);
}

/* The whole input as one value: what parses writes out and parses again. */
static void round_trip(const uint8_t *data, size_t size)
{
	struct json_value *v;
	const char *text;
	char err[128];
	struct jw w;

	if (json_parse((const char *)data, size, &v, err, sizeof(err)))
		return;
	jw_init(&w);
	jw_value(&w, NULL, v);
	text = jw_finish(&w);
	if (text)
		must_parse(text, strlen(text), false);
	jw_free(&w);
	json_free(v);
}

static void handle_line(const char *line, size_t len)
{
	const char *text;
	struct jw reply;

	jw_init(&reply);
	if (control_handle_line(ctl, line, len, &reply) == 0) {
		text = jw_finish(&reply);
		if (!text)
			abort();
		must_parse(text, strlen(text), true);
	}
	jw_free(&reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	if (!ctl)
		setup();
	round_trip(data, size);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		if (len <= CONTROL_MAX_LINE_BYTES)
			handle_line(p, len);
		p += len + 1;
	}
	return 0;
}
