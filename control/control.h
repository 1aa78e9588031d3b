/* SPDX-License-Identifier: MIT */
/*
 * The control socket: a unix stream socket speaking QMP-shaped JSON lines.
 *
 * One request object per line, one reply object per line:
 *   -> {"execute": "status", "arguments": {...}, "id": ANY}
 *   <- {"return": VALUE, "id": ANY}
 *   <- {"error": {"class": "GenericError", "desc": "..."}, "id": ANY}
 * "arguments" and "id" are optional; "id" is echoed when given. Unlike QMP
 * there is no greeting line and no capabilities negotiation: a client may
 * send its first request at once ("qmp_capabilities" exists as a no-op so
 * that QMP clients work). Blank lines are ignored. A line over 64 KiB or a
 * line that is not a valid request gets a GenericError reply, and the
 * connection stays usable. Commands run one at a time on the control thread.
 */
#ifndef KVMTRACK_CONTROL_H
#define KVMTRACK_CONTROL_H

#include <stddef.h>

struct control;
struct json_value;
struct jw;
struct vm;

#define CONTROL_MAX_CLIENTS 8
#define CONTROL_MAX_LINE_BYTES (64u << 10)

/*
 * A command handler. `args` is the request's "arguments" object (an empty
 * object when the request had none). On success it returns 0 and writes at
 * most one value with key NULL into `reply` (writing nothing means {}). On
 * failure it returns -errno and may put the error's "desc" into err;
 * anything it wrote to `reply` is discarded. Runs on the control thread.
 */
typedef int control_handler_fn(struct vm *vm, void *opaque,
			       const struct json_value *args, struct jw *reply,
			       char *err, size_t err_len);

/*
 * Creates a control object without a socket, with the built-in commands
 * "query-commands" and "qmp_capabilities". `vm` is handed to handlers and
 * may be NULL when no registered command uses it (tests). Free it with
 * control_stop().
 */
int control_create(struct vm *vm, struct control **out);

/*
 * Adds a command; name and help are copied. Safe while the server runs.
 * Returns -EEXIST if the name is taken, -EINVAL for an empty name.
 */
int control_register(struct control *c, const char *name, const char *help,
		     control_handler_fn *fn, void *opaque);

/* One command of a layer's table, for control_register_table(). */
struct control_command_spec {
	const char *name;
	const char *help;
	control_handler_fn *fn;
};

/* control_register() of each of the n commands in order, all with opaque;
 * stops at the first error and returns it. */
int control_register_table(struct control *c,
			   const struct control_command_spec *table, size_t n,
			   void *opaque);

/*
 * Called from a handler: runs fn(arg) on the control thread once the
 * current reply has been written to the client (or the write failed), so
 * that e.g. "quit" answers before the VM goes away. One per request:
 * returns -EBUSY if one is already pending. Only the server runs it: a
 * line handed to control_handle_line() by a caller leaves it pending.
 */
int control_defer(struct control *c, void (*fn)(void *arg), void *arg);

/*
 * Handles one request line (without its '\n') and writes the complete
 * reply object into `reply` (an initialized, empty writer). Returns 0 when
 * a reply was written (also an error reply), -ENODATA for a blank line
 * (nothing to answer) and -ENOMEM if the reply could not be built.
 */
int control_handle_line(struct control *c, const char *line, size_t len,
			struct jw *reply);

/*
 * Creates the socket at `path` (mode 0600) and starts the server thread.
 * A live server already at `path` is refused with -EADDRINUSE; a stale
 * socket left by a dead process is replaced; any other file is refused
 * with -EEXIST. Errors are logged to stderr with the path.
 */
int control_listen(struct control *c, const char *path);

/*
 * Stops the server thread if one runs, closes every connection, unlinks
 * the socket (if it is still ours) and frees c. NULL is a no-op. Must not
 * be called from a handler.
 */
void control_stop(struct control *c);

#endif
