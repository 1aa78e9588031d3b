// SPDX-License-Identifier: MIT
/*
 * Control commands for read-only windows (vmm/alias/alias.h):
 *   alias-add {"gpa", "src_gpa", "size"} -> alias-list's reply
 *   alias-remove {"gpa"}                 -> alias-list's reply
 *   alias-list -> [{"gpa", "src_gpa", "size", "writes_trapped", "slot",
 *                   "kind", ...}]
 * Numbers are JSON numbers, or strings in the command line's syntax
 * ("0x80000000", "1M"). Nothing here can make memory writable.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/control.h"
#include "lib/json/json.h"
#include "lib/parse.h"
#include "vmm/alias/alias.h"

static int number_arg(const struct json_value *args, const char *key,
		      uint64_t *out, char *err, size_t err_len)
{
	const char *text;

	if (json_get_u64(args, key, out) == 0)
		return 0;
	if (json_get_string(args, key, &text) == 0 &&
	    parse_size(text, out) == 0)
		return 0;
	snprintf(err, err_len,
		 "'%s' is required: a number, or a string such as \"0x80000000\" or \"1M\"",
		 key);
	return -EINVAL;
}

static int cmd_alias_list(struct vm *vm, void *opaque,
			  const struct json_value *args, struct jw *reply,
			  char *err, size_t err_len)
{
	alias_list_json(opaque, reply);
	return 0;
}

static int cmd_alias_add(struct vm *vm, void *opaque,
			 const struct json_value *args, struct jw *reply,
			 char *err, size_t err_len)
{
	struct alias_spec spec;
	int ret = number_arg(args, "gpa", &spec.gpa, err, err_len);

	ret = ret ?: number_arg(args, "src_gpa", &spec.src_gpa, err, err_len);
	ret = ret ?: number_arg(args, "size", &spec.size_bytes, err, err_len);
	ret = ret ?: alias_add(opaque, &spec, err, err_len);
	return ret ?: cmd_alias_list(vm, opaque, args, reply, err, err_len);
}

static int cmd_alias_remove(struct vm *vm, void *opaque,
			    const struct json_value *args, struct jw *reply,
			    char *err, size_t err_len)
{
	uint64_t gpa;
	int ret = number_arg(args, "gpa", &gpa, err, err_len);

	ret = ret ?: alias_remove(opaque, gpa, err, err_len);
	return ret ?: cmd_alias_list(vm, opaque, args, reply, err, err_len);
}

int alias_register_commands(struct control *c, void *mem)
{
	static const struct control_command_spec table[] = {
		{ "alias-list", "read-only aliases and shared files",
		  cmd_alias_list },
		{ "alias-add",
		  "{gpa, src_gpa, size}: map guest memory read-only at gpa",
		  cmd_alias_add },
		{ "alias-remove", "{gpa}: remove the alias (or shared file) at gpa",
		  cmd_alias_remove },
	};

	return control_register_table(c, table, sizeof(table) / sizeof(table[0]),
				      mem);
}
