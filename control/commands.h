/* SPDX-License-Identifier: MIT */
/*
 * The command table and dispatcher behind a control object (commands.c):
 * what server.c forwards control.h's calls to. Knows no socket: a request
 * line goes in, a reply object comes out.
 */
#ifndef KVMTRACK_CONTROL_COMMANDS_H
#define KVMTRACK_CONTROL_COMMANDS_H

#include <stddef.h>

#include "control/control.h"

struct control_commands;
struct json_value;
struct jw;

/* A table with "query-commands" and "qmp_capabilities"; vm is handed to
 * every handler. 0 or -ENOMEM. */
int control_commands_create(struct vm *vm, struct control_commands **out);
void control_commands_destroy(struct control_commands *c);

/* control_register(), control_defer() and control_handle_line() of the
 * object that owns the table (see control.h). */
int control_commands_add(struct control_commands *c, const char *name,
			 const char *help, control_handler_fn *fn, void *opaque);
int control_commands_defer(struct control_commands *c, void (*fn)(void *arg),
			   void *arg);
int control_commands_handle_line(struct control_commands *c, const char *line,
				 size_t len, struct jw *reply);

/* Runs and clears what a handler passed to control_defer(), if anything. */
void control_commands_run_deferred(struct control_commands *c);

/* Writes a complete error reply object; id (the request's) may be NULL. */
void control_write_error(struct jw *reply, const struct json_value *id,
			 const char *class, const char *desc);

#endif
