// SPDX-License-Identifier: MIT
/*
 * The command-line syntax of read-only windows (alias.h): --alias,
 * --share and --alias-write, parsed into plain specs. Pure: nothing here
 * touches a VM, so app/cli.c and the control commands share it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/parse.h"
#include "vmm/alias/alias.h"
#include "vmm/mem/memory.h"

/* Parses text[0..len) as a number or size (hex or decimal, K/M/G). */
static int parse_part(const char *text, size_t len, uint64_t *out)
{
	char buf[64];

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return parse_size(buf, out);
}

int alias_parse_spec(const char *text, struct alias_spec *out, char *err,
		     size_t err_len)
{
	const char *eq = strchr(text, '=');
	const char *plus = eq ? strchr(eq + 1, '+') : NULL;

	if (!eq || !plus ||
	    parse_part(text, (size_t)(eq - text), &out->gpa) < 0 ||
	    parse_part(eq + 1, (size_t)(plus - eq - 1), &out->src_gpa) < 0 ||
	    parse_part(plus + 1, strlen(plus + 1), &out->size_bytes) < 0) {
		snprintf(err, err_len,
			 "--alias '%s': expected GPA=SRC_GPA+SIZE (e.g. 0x80000000=0x100000+1M)",
			 text);
		return -EINVAL;
	}
	if ((out->gpa | out->src_gpa | out->size_bytes) &
		    (GUEST_PAGE_BYTES - 1) ||
	    !out->size_bytes) {
		snprintf(err, err_len,
			 "--alias '%s': GPA, SRC_GPA and SIZE must be 4 KiB page-aligned, SIZE not 0",
			 text);
		return -EINVAL;
	}
	return 0;
}

static bool name_ok(const char *name, size_t len)
{
	if (len == 0 || len >= SHARE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

int share_parse_spec(const char *text, struct share_spec *out, char *err,
		     size_t err_len)
{
	const char *eq = strchr(text, '=');
	const char *at = strrchr(text, '@');

	if (!eq || !at || at < eq || !name_ok(text, (size_t)(eq - text)) ||
	    at == eq + 1 || (size_t)(at - eq - 1) >= sizeof(out->path) ||
	    parse_part(at + 1, strlen(at + 1), &out->gpa) < 0) {
		snprintf(err, err_len,
			 "--share '%s': expected NAME=FILE@GPA (NAME: up to 31 of A-Z a-z 0-9 _ . -)",
			 text);
		return -EINVAL;
	}
	if (out->gpa & (GUEST_PAGE_BYTES - 1)) {
		snprintf(err, err_len,
			 "--share '%s': GPA must be 4 KiB page-aligned", text);
		return -EINVAL;
	}
	snprintf(out->name, sizeof(out->name), "%.*s", (int)(eq - text), text);
	snprintf(out->path, sizeof(out->path), "%.*s", (int)(at - eq - 1),
		 eq + 1);
	return 0;
}

int alias_parse_write_policy(const char *text, int *policy, char *err,
			     size_t err_len)
{
	if (!strcmp(text, "log"))
		*policy = ALIAS_WRITE_LOG;
	else if (!strcmp(text, "ignore"))
		*policy = ALIAS_WRITE_IGNORE;
	else if (!strcmp(text, "stop"))
		*policy = ALIAS_WRITE_STOP;
	else {
		snprintf(err, err_len,
			 "--alias-write '%s': expected ignore, log or stop", text);
		return -EINVAL;
	}
	return 0;
}

const char *alias_write_policy_name(int policy)
{
	switch (policy) {
	case ALIAS_WRITE_IGNORE:
		return "ignore";
	case ALIAS_WRITE_STOP:
		return "stop";
	default:
		return "log";
	}
}
