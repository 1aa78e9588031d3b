/* SPDX-License-Identifier: MIT */
/*
 * What the command side (control.c) and the socket server
 * (control_server.c) of the control socket share; not for use elsewhere.
 */
#ifndef KVMTRACK_CONTROL_INTERNAL_H
#define KVMTRACK_CONTROL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "control/control.h"

struct control_command {
	char *name;
	char *help;
	control_handler_fn *fn;
	void *opaque;
};

struct control_client {
	int fd; /* -1: free slot */
	char *buf; /* CONTROL_MAX_LINE_BYTES + 1: a full line and its '\n' */
	size_t len;
	bool discarding; /* inside an over-long line: drop up to its '\n' */
};

struct control {
	struct vm *vm;
	pthread_mutex_t lock; /* guards the command table */
	struct control_command *commands;
	size_t nr_commands;
	/* Set by a handler, run after its reply; control thread only. */
	void (*deferred_fn)(void *arg);
	void *deferred_arg;
	char *path;
	dev_t sock_dev; /* identity of the socket file we created */
	ino_t sock_ino;
	int listen_fd;
	int wake_fd[2];
	bool running;
	pthread_t thread;
	struct control_client clients[CONTROL_MAX_CLIENTS];
};

/* Writes a complete error reply object; id (the request's) may be NULL. */
void control_write_error(struct jw *reply, const struct json_value *id,
			 const char *class, const char *desc);

/* Runs and clears what a handler passed to control_defer(), if anything. */
void control_run_deferred(struct control *c);

/* Marks the socket, the self-pipe and every client slot as closed. */
void control_server_init(struct control *c);

/*
 * Stops the server thread if one runs, closes every connection, the
 * self-pipe and the socket (unlinking it if it is still ours), and frees
 * the path. Leaves the command table alone.
 */
void control_server_stop(struct control *c);

#endif
