// SPDX-License-Identifier: MIT
/*
 * The control command that talks to the bundled guest through its test
 * device (devices/testdev.c), for tests and benchmarks that must end a
 * workload by the guest's own steps, not by its clock:
 *   testdev {"command": "stop"|"verify"} -> {}
 * stop: the guest finishes its workload now, verifies what it wrote (with
 * verify=1) and ends; verify: it checks every page it wrote and reports.
 */
#include "app/testdev_commands.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/control.h"
#include "devices/testdev.h"
#include "devices/testdev_model.h"
#include "lib/json/json.h"

static int cmd_testdev(struct vm *vm, void *opaque,
		       const struct json_value *args, struct jw *reply,
		       char *err, size_t err_len)
{
	struct testdev *td = testdev_of(vm);
	const char *what = NULL;
	uint32_t cmd;

	if (json_get_string(args, "command", &what) ||
	    (strcmp(what, "stop") && strcmp(what, "verify"))) {
		snprintf(err, err_len, "'command' must be stop or verify");
		return -EINVAL;
	}
	if (!td) {
		snprintf(err, err_len, "this machine has no test device");
		return -ENODEV;
	}
	cmd = strcmp(what, "stop") ? TESTDEV_CMD_VERIFY : TESTDEV_CMD_STOP;
	if (testdev_queue_cmd(td, cmd, 0) < 0) {
		snprintf(err, err_len,
			 "the guest has not taken the commands queued before");
		return -EBUSY;
	}
	return 0;
}

int testdev_register_commands(struct control *c, void *opaque)
{
	return control_register(c, "testdev",
				"{command: stop|verify}: tell the bundled guest to end its workload, or to verify it now",
				cmd_testdev, opaque);
}
