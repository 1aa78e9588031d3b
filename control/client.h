/* SPDX-License-Identifier: MIT */
/* The client side of the control socket (protocol in control.h). */
#ifndef KVMTRACK_CONTROL_CLIENT_H
#define KVMTRACK_CONTROL_CLIENT_H

#include <stddef.h>

struct json_value;

#define CONTROL_CALL_TIMEOUT_MS 30000

/*
 * Connects to the control socket at `path`, sends one request for
 * `command` with `arguments_json` (NULL, or the text of a JSON object)
 * and waits for its reply line. Returns 0 and *reply_return, the reply's
 * "return" value (free it with json_free()). A server error returns
 * -EREMOTEIO with err = the server's "desc"; bad arguments_json returns
 * -EINVAL; a socket failure or a reply not within 30 s returns -errno with
 * err naming the path ("control socket /tmp/x: connect: ...").
 */
int control_call(const char *path, const char *command,
		 const char *arguments_json, struct json_value **reply_return,
		 char *err, size_t err_len);

/* control_call() with a reply timeout in milliseconds (<= 0: none). */
int control_call_timeout(const char *path, const char *command,
			 const char *arguments_json, int timeout_ms,
			 struct json_value **reply_return, char *err,
			 size_t err_len);

/*
 * `kvmtrack ctl --control PATH COMMAND [ARGUMENTS-JSON]` (app/cmd_ctl.c).
 * argv[0] is the subcommand's name ("ctl"). Prints the reply's return
 * value as one JSON line; returns the exit status: 0 on success, 1 for a
 * server or socket error, 2 for a usage error.
 */
int cmd_ctl(int argc, char **argv);

#endif
