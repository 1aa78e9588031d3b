// SPDX-License-Identifier: MIT
/*
 * The control socket server (protocol in control.h): a command table, the
 * request dispatcher, and one thread that poll()s the listening socket,
 * up to CONTROL_MAX_CLIENTS connections and a self-pipe used to stop it.
 *
 * This file knows nothing of the VM; the commands that call into vm.c live
 * in control_vm.c so that the unit tests link without a VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <poll.h>

#include "vmm/control.h"
#include "vmm/json.h"
#include "vmm/log.h"

/* A client that stops reading its replies must not stall the server. */
#define CONTROL_SEND_TIMEOUT_S 5

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

static const struct json_value empty_object = { .type = JSON_OBJECT };

/* --- command table ------------------------------------------------------ */

/* Appends cmd unless its name is taken; called with c->lock held. */
static int add_command(struct control *c, const struct control_command *cmd)
{
	struct control_command *cmds;

	for (size_t i = 0; i < c->nr_commands; i++)
		if (!strcmp(c->commands[i].name, cmd->name))
			return -EEXIST;
	cmds = realloc(c->commands, (c->nr_commands + 1) * sizeof(*cmds));
	if (!cmds)
		return -ENOMEM;
	cmds[c->nr_commands++] = *cmd;
	c->commands = cmds;
	return 0;
}

int control_register(struct control *c, const char *name, const char *help,
		     control_handler_fn *fn, void *opaque)
{
	struct control_command cmd = { .fn = fn, .opaque = opaque };
	int ret = -ENOMEM;

	if (!name || !*name || !fn)
		return -EINVAL;
	cmd.name = strdup(name);
	cmd.help = strdup(help ? help : "");
	if (cmd.name && cmd.help) {
		pthread_mutex_lock(&c->lock);
		ret = add_command(c, &cmd);
		pthread_mutex_unlock(&c->lock);
	}
	if (ret) {
		free(cmd.name);
		free(cmd.help);
	}
	return ret;
}

static bool lookup(struct control *c, const char *name,
		   struct control_command *out)
{
	bool found = false;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nr_commands && !found; i++) {
		if (!strcmp(c->commands[i].name, name)) {
			*out = c->commands[i];
			found = true;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

int control_defer(struct control *c, void (*fn)(void *arg), void *arg)
{
	if (c->deferred_fn)
		return -EBUSY;
	c->deferred_fn = fn;
	c->deferred_arg = arg;
	return 0;
}

/* QMP's shape: [{"name": ..., "help": ...}], so QMP tools can list them. */
static int cmd_query_commands(struct vm *vm, void *opaque,
			      const struct json_value *args, struct jw *reply,
			      char *err, size_t err_len)
{
	struct control *c = opaque;

	pthread_mutex_lock(&c->lock);
	jw_array_begin(reply, NULL);
	for (size_t i = 0; i < c->nr_commands; i++) {
		jw_object_begin(reply, NULL);
		jw_string(reply, "name", c->commands[i].name);
		jw_string(reply, "help", c->commands[i].help);
		jw_object_end(reply);
	}
	jw_array_end(reply);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static int cmd_qmp_capabilities(struct vm *vm, void *opaque,
				const struct json_value *args,
				struct jw *reply, char *err, size_t err_len)
{
	return 0;
}

/* --- dispatch ----------------------------------------------------------- */

static void write_error(struct jw *reply, const struct json_value *id,
			const char *class, const char *desc)
{
	jw_object_begin(reply, NULL);
	jw_object_begin(reply, "error");
	jw_string(reply, "class", class);
	jw_string(reply, "desc", desc);
	jw_object_end(reply);
	if (id)
		jw_value(reply, "id", id);
	jw_object_end(reply);
}

/* Checks the request's shape; on failure puts the reason into desc. */
static int check_request(const struct json_value *req, const char **name,
			 const struct json_value **args, char *desc,
			 size_t desc_len)
{
	if (req->type != JSON_OBJECT) {
		snprintf(desc, desc_len, "request must be a JSON object");
		return -EINVAL;
	}
	for (size_t i = 0; i < req->nr_items; i++) {
		const char *key = req->keys[i];

		if (strcmp(key, "execute") && strcmp(key, "arguments") &&
		    strcmp(key, "id")) {
			snprintf(desc, desc_len,
				 "unexpected member \"%.64s\" in request", key);
			return -EINVAL;
		}
	}
	if (json_get_string(req, "execute", name)) {
		snprintf(desc, desc_len,
			 "request needs \"execute\" with a command name");
		return -EINVAL;
	}
	*args = json_get(req, "arguments");
	if (!*args) {
		*args = &empty_object;
	} else if ((*args)->type != JSON_OBJECT) {
		snprintf(desc, desc_len, "\"arguments\" must be a JSON object");
		return -EINVAL;
	}
	return 0;
}

/* Runs the handler into a private writer so a failure leaves no trace. */
static void run_command(struct control *c, const struct control_command *cmd,
			const struct json_value *args,
			const struct json_value *id, struct jw *reply)
{
	struct jw value;
	const char *text;
	char desc[512] = "";
	int ret;

	jw_init(&value);
	ret = cmd->fn(c->vm, cmd->opaque, args, &value, desc, sizeof(desc));
	text = value.len ? jw_finish(&value) : "{}";
	if (ret < 0 || !text) {
		if (ret >= 0)
			snprintf(desc, sizeof(desc),
				 "%s: could not build the reply: %s",
				 cmd->name, strerror(-value.err));
		else if (!desc[0])
			snprintf(desc, sizeof(desc), "%s: %s", cmd->name,
				 strerror(-ret));
		write_error(reply, id, "GenericError", desc);
	} else {
		jw_object_begin(reply, NULL);
		jw_raw(reply, "return", text);
		if (id)
			jw_value(reply, "id", id);
		jw_object_end(reply);
	}
	jw_free(&value);
}

static void dispatch(struct control *c, const struct json_value *req,
		     struct jw *reply)
{
	const struct json_value *id = json_get(req, "id"), *args;
	struct control_command cmd;
	const char *name;
	char desc[256];

	if (check_request(req, &name, &args, desc, sizeof(desc))) {
		write_error(reply, id, "GenericError", desc);
		return;
	}
	if (!lookup(c, name, &cmd)) {
		snprintf(desc, sizeof(desc),
			 "unknown command \"%.64s\" (see query-commands)",
			 name);
		write_error(reply, id, "CommandNotFound", desc);
		return;
	}
	run_command(c, &cmd, args, id, reply);
}

static bool is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	return true;
}

int control_handle_line(struct control *c, const char *line, size_t len,
			struct jw *reply)
{
	struct json_value *req;
	char err[256], desc[300];

	if (is_blank(line, len))
		return -ENODATA;
	if (json_parse(line, len, &req, err, sizeof(err))) {
		snprintf(desc, sizeof(desc), "invalid JSON: %s", err);
		write_error(reply, NULL, "GenericError", desc);
	} else {
		dispatch(c, req, reply);
		json_free(req);
	}
	return jw_finish(reply) ? 0 : -ENOMEM;
}

int control_create(struct vm *vm, struct control **out)
{
	struct control *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c->vm = vm;
	c->listen_fd = -1;
	c->wake_fd[0] = c->wake_fd[1] = -1;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	ret = control_register(c, "query-commands",
			       "list the commands of this socket",
			       cmd_query_commands, c);
	if (!ret)
		ret = control_register(c, "qmp_capabilities",
				       "no-op, for QMP clients",
				       cmd_qmp_capabilities, NULL);
	if (ret) {
		control_stop(c);
		return ret;
	}
	*out = c;
	return 0;
}

/* --- server ------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void
log_error(const struct control *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("control socket %s: %s", c->path, msg);
}

static void drop_client(struct control_client *cl)
{
	close(cl->fd);
	free(cl->buf);
	cl->fd = -1;
	cl->buf = NULL;
	cl->len = 0;
	cl->discarding = false;
}

/* Sends text and a '\n'; false when the client is gone or stuck. */
static bool send_line(int fd, const char *text)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)text, .iov_len = strlen(text) },
		{ .iov_base = "\n", .iov_len = 1 },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	while (msg.msg_iovlen) {
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		while (msg.msg_iovlen && (size_t)n >= msg.msg_iov->iov_len) {
			n -= (ssize_t)msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen) {
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + n;
			msg.msg_iov->iov_len -= (size_t)n;
		}
	}
	return true;
}

static bool send_error(int fd, const char *desc)
{
	struct jw w;
	bool ok;

	jw_init(&w);
	write_error(&w, NULL, "GenericError", desc);
	ok = jw_finish(&w) && send_line(fd, w.buf);
	jw_free(&w);
	return ok;
}

/* Answers one line; false when the client must be dropped. */
static bool serve_line(struct control *c, struct control_client *cl,
		       const char *line, size_t len)
{
	struct jw reply;
	bool ok = true;
	int ret;

	jw_init(&reply);
	ret = control_handle_line(c, line, len, &reply);
	if (ret == -ENOMEM)
		ok = send_error(cl->fd, "out of memory");
	else if (!ret)
		ok = send_line(cl->fd, reply.buf);
	jw_free(&reply);
	if (c->deferred_fn) {
		void (*fn)(void *arg) = c->deferred_fn;

		c->deferred_fn = NULL;
		fn(c->deferred_arg);
	}
	return ok;
}

/* Answers the complete lines in cl->buf and keeps the partial one. */
static bool serve_buffer(struct control *c, struct control_client *cl)
{
	size_t start = 0;
	char *nl;

	while ((nl = memchr(cl->buf + start, '\n', cl->len - start))) {
		size_t len = (size_t)(nl - (cl->buf + start));

		if (cl->discarding)
			cl->discarding = false;
		else if (!serve_line(c, cl, cl->buf + start, len))
			return false;
		start += len + 1;
	}
	memmove(cl->buf, cl->buf + start, cl->len - start);
	cl->len -= start;
	if (cl->len > CONTROL_MAX_LINE_BYTES) {
		/* Answer once, then skip the rest of this line. */
		if (!cl->discarding &&
		    !send_error(cl->fd, "request line longer than 65536 bytes"))
			return false;
		cl->discarding = true;
		cl->len = 0;
	}
	return true;
}

static void serve_client(struct control *c, struct control_client *cl)
{
	size_t room = CONTROL_MAX_LINE_BYTES + 1 - cl->len;
	ssize_t n = read(cl->fd, cl->buf + cl->len, room);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* A last request without '\n' (echo -n | socat) is answered. */
		if (n == 0 && cl->len && !cl->discarding)
			serve_line(c, cl, cl->buf, cl->len);
		drop_client(cl);
		return;
	}
	cl->len += (size_t)n;
	if (!serve_buffer(c, cl))
		drop_client(cl);
}

static void accept_client(struct control *c)
{
	struct timeval tv = { .tv_sec = CONTROL_SEND_TIMEOUT_S };
	struct control_client *cl = NULL;
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return; /* the client went away, or EMFILE: try next time */
	for (int i = 0; i < CONTROL_MAX_CLIENTS && !cl; i++)
		if (c->clients[i].fd < 0)
			cl = &c->clients[i];
	if (!cl) {
		send_error(fd, "too many control connections (at most 8)");
		close(fd);
		return;
	}
	cl->buf = malloc(CONTROL_MAX_LINE_BYTES + 1);
	if (!cl->buf) {
		send_error(fd, "out of memory");
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	cl->fd = fd;
}

static void *control_thread(void *arg)
{
	struct control *c = arg;
	struct pollfd pfds[2 + CONTROL_MAX_CLIENTS];
	struct control_client *polled[CONTROL_MAX_CLIENTS];

	for (;;) {
		nfds_t nfds = 2;

		pfds[0] = (struct pollfd){ .fd = c->wake_fd[0], .events = POLLIN };
		pfds[1] = (struct pollfd){ .fd = c->listen_fd, .events = POLLIN };
		for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
			if (c->clients[i].fd < 0)
				continue;
			polled[nfds - 2] = &c->clients[i];
			pfds[nfds++] = (struct pollfd){ .fd = c->clients[i].fd,
							.events = POLLIN };
		}
		if (poll(pfds, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error(c, "poll: %s; server stopped", strerror(errno));
			return NULL;
		}
		if (pfds[0].revents)
			return NULL;
		for (nfds_t i = 2; i < nfds; i++)
			if (pfds[i].revents)
				serve_client(c, polled[i - 2]);
		if (pfds[1].revents & POLLIN)
			accept_client(c);
	}
}

/*
 * bind() failed with EADDRINUSE: a socket whose server still accepts is
 * live and left alone; one that refuses connections was left behind by a
 * dead process and is removed so that bind() can be retried.
 */
static int remove_stale_socket(struct control *c,
			       const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, ret;

	if (lstat(c->path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		log_error(c, "exists and is not a socket");
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	ret = ret ? -errno : 0;
	close(fd);
	if (ret == 0) {
		log_error(c, "in use by a running kvmtrack (or another server)");
		return -EADDRINUSE;
	}
	if (ret != -ECONNREFUSED) {
		log_error(c, "probing the existing socket: %s", strerror(-ret));
		return ret;
	}
	if (unlink(c->path) && errno != ENOENT) {
		ret = -errno;
		log_error(c, "removing the stale socket: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static int bind_socket(struct control *c)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int ret;

	if (strlen(c->path) >= sizeof(addr.sun_path)) {
		log_error(c, "path longer than %zu bytes",
			  sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, c->path);
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0)
		return -errno;
	ret = bind(c->listen_fd, (struct sockaddr *)&addr, sizeof(addr));
	if (ret && errno == EADDRINUSE) {
		ret = remove_stale_socket(c, &addr);
		if (ret)
			return ret;
		ret = bind(c->listen_fd, (struct sockaddr *)&addr, sizeof(addr));
	}
	if (ret) {
		ret = -errno;
		log_error(c, "bind: %s", strerror(-ret));
		return ret;
	}
	/* Owner only: "quit" is on this socket. Not yet listening: no race. */
	if (chmod(c->path, 0600) || stat(c->path, &st)) {
		ret = -errno;
		log_error(c, "chmod: %s", strerror(-ret));
		unlink(c->path);
		return ret;
	}
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	return 0;
}

/* The thread blocks all signals: SIGINT/SIGTERM belong to the main thread. */
static int start_thread(struct control *c)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&c->thread, NULL, control_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		log_error(c, "pthread_create: %s", strerror(-ret));
	else
		c->running = true;
	return ret;
}

int control_listen(struct control *c, const char *path)
{
	int ret;

	if (c->path)
		return -EBUSY;
	c->path = strdup(path);
	if (!c->path)
		return -ENOMEM;
	ret = bind_socket(c);
	if (ret)
		goto out_close;
	if (listen(c->listen_fd, CONTROL_MAX_CLIENTS)) {
		ret = -errno;
		log_error(c, "listen: %s", strerror(-ret));
		goto out_unlink;
	}
	/* The self-pipe: control_stop() writes a byte to end the poll(). */
	if (pipe2(c->wake_fd, O_CLOEXEC | O_NONBLOCK)) {
		ret = -errno;
		log_error(c, "pipe: %s", strerror(-ret));
		goto out_unlink;
	}
	ret = start_thread(c);
	if (ret)
		goto out_unlink;
	return 0;
out_unlink:
	unlink(c->path);
out_close:
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	c->listen_fd = -1;
	free(c->path);
	c->path = NULL;
	return ret;
}

/* Unlinks the path only if it is still the socket we bound. */
static void unlink_own_socket(struct control *c)
{
	struct stat st;

	if (stat(c->path, &st) == 0 && st.st_dev == c->sock_dev &&
	    st.st_ino == c->sock_ino)
		unlink(c->path);
}

void control_stop(struct control *c)
{
	if (!c)
		return;
	if (c->running) {
		/* A full pipe already wakes the thread: the result is moot. */
		if (write(c->wake_fd[1], "x", 1) < 0 && errno != EAGAIN)
			log_error(c, "waking the server: %s", strerror(errno));
		pthread_join(c->thread, NULL);
	}
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0)
			drop_client(&c->clients[i]);
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		unlink_own_socket(c);
	}
	for (int i = 0; i < 2; i++)
		if (c->wake_fd[i] >= 0)
			close(c->wake_fd[i]);
	for (size_t i = 0; i < c->nr_commands; i++) {
		free(c->commands[i].name);
		free(c->commands[i].help);
	}
	free(c->commands);
	free(c->path);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
