/* SPDX-License-Identifier: MIT */
/* The `testdev` control command (see testdev_commands.c). */
#ifndef KVMTRACK_TESTDEV_COMMANDS_H
#define KVMTRACK_TESTDEV_COMMANDS_H

struct control;

int testdev_register_commands(struct control *c, void *opaque);

#endif
