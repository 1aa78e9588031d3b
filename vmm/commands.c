// SPDX-License-Identifier: MIT
/*
 * The control commands that act on the VM, and the socket of a running VM
 * with them and its dirty-log and alias commands. Kept apart from control/
 * so that the server and its dispatcher know nothing of a VM.
 */
#include "vmm/commands.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/control.h"
#include "lib/json/json.h"
#include "vmm/alias/alias.h"
#include "vmm/dirty/dirty.h"
#include "vmm/vm.h"

static int cmd_status(struct vm *vm, void *opaque,
		      const struct json_value *args, struct jw *reply,
		      char *err, size_t err_len)
{
	enum vm_state state = vm_get_state(vm);

	jw_object_begin(reply, NULL);
	jw_string(reply, "status", vm_state_name(state));
	jw_bool(reply, "running", state == VM_RUNNING);
	jw_object_begin(reply, "dirty_log");
	jw_string(reply, "backend",
		  dirty_backend_name(dirty_tracker_backend(vm_dirty(vm))));
	jw_bool(reply, "logging", dirty_tracker_logging(vm_dirty(vm)));
	jw_object_end(reply);
	jw_object_end(reply);
	return 0;
}

static int cmd_pause(struct vm *vm, void *opaque,
		     const struct json_value *args, struct jw *reply,
		     char *err, size_t err_len)
{
	enum vm_state state = vm_get_state(vm);
	int ret;

	if (state != VM_RUNNING) {
		snprintf(err, err_len, "%s",
			 state == VM_PAUSED ? "the VM is already paused" :
					      "the VM is not running");
		return -EINVAL;
	}
	ret = vm_pause(vm);
	if (ret)
		snprintf(err, err_len, "pause: %s", strerror(-ret));
	return ret;
}

static int cmd_resume(struct vm *vm, void *opaque,
		      const struct json_value *args, struct jw *reply,
		      char *err, size_t err_len)
{
	enum vm_state state = vm_get_state(vm);
	int ret;

	if (state != VM_PAUSED) {
		snprintf(err, err_len, "%s",
			 state == VM_RUNNING ? "the VM is already running" :
					       "the VM is not paused");
		return -EINVAL;
	}
	ret = vm_resume(vm);
	if (ret)
		snprintf(err, err_len, "resume: %s", strerror(-ret));
	return ret;
}

static void quit_now(void *arg)
{
	vm_request_stop(arg, VM_STOP_QUIT, 0,
			"quit requested on the control socket");
}

/* The stop request waits for the reply: the client must see {} first. */
static int cmd_quit(struct vm *vm, void *opaque,
		    const struct json_value *args, struct jw *reply,
		    char *err, size_t err_len)
{
	return control_defer(opaque, quit_now, vm);
}

static int cmd_stats(struct vm *vm, void *opaque,
		     const struct json_value *args, struct jw *reply,
		     char *err, size_t err_len)
{
	jw_object_begin(reply, NULL);
	vm_stats_json(vm, reply);
	alias_stats_json(vm_mem(vm), reply);
	jw_object_end(reply);
	return 0;
}

static int register_vm_commands(struct control *c)
{
	static const struct control_command_spec table[] = {
		{ "status", "VM state: {status, running}", cmd_status },
		{ "pause", "pause all vCPUs", cmd_pause },
		{ "resume", "resume all vCPUs", cmd_resume },
		{ "quit", "stop the VM and exit kvmtrack (status 0)", cmd_quit },
		{ "stats", "exit counts and device statistics", cmd_stats },
	};

	return control_register_table(c, table, sizeof(table) / sizeof(table[0]),
				      c);
}

int vm_control_start(struct vm *vm, const char *path, struct control **out)
{
	struct control *c;
	int ret;

	ret = control_create(vm, &c);
	if (ret)
		return ret;
	ret = register_vm_commands(c);
	ret = ret ?: dirty_register_commands(c, vm_dirty(vm));
	ret = ret ?: alias_register_commands(c, vm_mem(vm));
	ret = ret ?: control_listen(c, path);
	if (ret) {
		control_stop(c);
		return ret;
	}
	*out = c;
	return 0;
}
