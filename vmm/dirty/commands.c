// SPDX-License-Identifier: MIT
/*
 * Control commands for dirty logging:
 *   query-dirty-log -> {"backend": ..., "slots": [{"slot", "gpa",
 *                       "size", "logging", "readonly"}]}
 *   dirty-log {"enable": bool, "slot": N (optional, default every slot)}
 * Switching logging on here keeps it on for the user, independently of
 * what migration or dirtyrate turn on and off for themselves.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/control.h"
#include "lib/json/json.h"
#include "vmm/dirty/dirty.h"

static int cmd_query_dirty_log(struct vm *vm, void *opaque,
			       const struct json_value *args, struct jw *reply,
			       char *err, size_t err_len)
{
	struct dirty_tracker *t = opaque;
	const struct guest_mem *mem = dirty_tracker_mem(t);
	uint32_t logged = dirty_logged_slots(t);

	jw_object_begin(reply, NULL);
	jw_string(reply, "backend",
		  dirty_backend_name(dirty_tracker_backend(t)));
	jw_array_begin(reply, "slots");
	for (unsigned int i = 0; i < mem->nr_slots; i++) {
		const struct mem_slot *s = &mem->slots[i];

		jw_object_begin(reply, NULL);
		jw_u64(reply, "slot", s->id);
		jw_u64(reply, "gpa", s->gpa);
		jw_u64(reply, "size", s->size_bytes);
		jw_bool(reply, "logging", logged & (1u << s->id));
		jw_bool(reply, "readonly", s->flags & MEM_SLOT_READONLY);
		jw_object_end(reply);
	}
	jw_array_end(reply);
	jw_object_end(reply);
	return 0;
}

static int slot_mask_arg(const struct guest_mem *mem,
			 const struct json_value *args, uint32_t *mask,
			 char *err, size_t err_len)
{
	uint64_t slot;
	int ret = json_get_u64(args, "slot", &slot);

	if (ret == -ENOENT) {
		*mask = ~0u;
		return 0;
	}
	for (unsigned int i = 0; ret == 0 && i < mem->nr_slots; i++) {
		if (mem->slots[i].id == slot) {
			*mask = 1u << slot;
			return 0;
		}
	}
	snprintf(err, err_len, "'slot' must be the id of a memslot (0-%u)",
		 mem->nr_slots - 1);
	return -EINVAL;
}

static int cmd_dirty_log(struct vm *vm, void *opaque,
			 const struct json_value *args, struct jw *reply,
			 char *err, size_t err_len)
{
	uint32_t mask;
	bool enable;
	int ret;

	if (json_get_bool(args, "enable", &enable) < 0) {
		snprintf(err, err_len, "'enable' (true or false) is required");
		return -EINVAL;
	}
	ret = slot_mask_arg(dirty_tracker_mem(opaque), args, &mask, err,
			    err_len);
	if (ret < 0)
		return ret;
	ret = dirty_log_force(opaque, mask, enable);
	if (ret < 0) {
		snprintf(err, err_len, "cannot switch dirty logging %s: %s",
			 enable ? "on" : "off", strerror(-ret));
		return ret;
	}
	return cmd_query_dirty_log(vm, opaque, args, reply, err, err_len);
}

int dirty_register_commands(struct control *c, void *tracker)
{
	static const struct control_command_spec table[] = {
		{ "query-dirty-log", "backend and per-memslot logging state",
		  cmd_query_dirty_log },
		{ "dirty-log", "{enable, slot?}: switch logging per memslot",
		  cmd_dirty_log },
	};

	return control_register_table(c, table, sizeof(table) / sizeof(table[0]),
				      tracker);
}
