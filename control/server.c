// SPDX-License-Identifier: MIT
/*
 * The control object of control.h and its socket server: one thread that
 * poll()s the listening socket, up to CONTROL_MAX_CLIENTS connections and
 * a self-pipe used to stop it, and hands each request line to the command
 * table (commands.c).
 */
#include "control/control.h"

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

#include "control/commands.h"
#include "lib/json/json.h"
#include "lib/log.h"

/* A client that stops reading its replies must not stall the server. */
#define CONTROL_SEND_TIMEOUT_S 5

struct control_client {
	int fd; /* -1: free slot */
	char *buf; /* CONTROL_MAX_LINE_BYTES + 1: a full line and its '\n' */
	size_t len;
	bool discarding; /* inside an over-long line: drop up to its '\n' */
};

struct control {
	struct control_commands *commands;
	char *path;
	dev_t sock_dev; /* identity of the socket file we created */
	ino_t sock_ino;
	int listen_fd;
	int spare_fd; /* /dev/null: freed to refuse a client when out of fds */
	int wake_fd[2];
	bool running;
	pthread_t thread;
	struct control_client clients[CONTROL_MAX_CLIENTS];
};

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
	control_write_error(&w, NULL, "GenericError", desc);
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
	ret = control_commands_handle_line(c->commands, line, len, &reply);
	if (ret == -ENOMEM)
		ok = send_error(cl->fd, "out of memory");
	else if (!ret)
		ok = send_line(cl->fd, reply.buf);
	jw_free(&reply);
	control_commands_run_deferred(c->commands);
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
		char desc[64];

		/* Answer once, then skip the rest of this line: a 10 MB line
		 * costs one reply and no memory beyond the buffer. */
		snprintf(desc, sizeof(desc),
			 "request line longer than %u bytes",
			 CONTROL_MAX_LINE_BYTES);
		if (!cl->discarding && !send_error(cl->fd, desc))
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

/*
 * An accept() that fails for want of a file descriptor leaves the
 * connection queued, and poll() reports it again at once: the thread would
 * spin for as long as the shortage lasts. Giving up the spare descriptor
 * for a moment takes the connection off the queue and tells the client
 * why. (If another thread takes the freed slot first, the spare is lost
 * and the next shortage spins: nothing else frees a descriptor here.)
 */
static void refuse_without_fd(struct control *c)
{
	int fd;

	if (c->spare_fd >= 0)
		close(c->spare_fd);
	fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		log_error(c, "out of file descriptors: a client was refused");
		send_error(fd, "kvmtrack is out of file descriptors");
		close(fd);
	}
	c->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void accept_client(struct control *c)
{
	struct timeval tv = { .tv_sec = CONTROL_SEND_TIMEOUT_S };
	struct control_client *cl = NULL;
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			refuse_without_fd(c);
		return; /* else the client went away: nothing to do */
	}
	for (int i = 0; i < CONTROL_MAX_CLIENTS && !cl; i++)
		if (c->clients[i].fd < 0)
			cl = &c->clients[i];
	if (!cl) {
		char desc[64];

		/* The client may have sent its request already: closing with
		 * it unread makes its reads fail with ECONNRESET, but only
		 * after it has read this line. */
		snprintf(desc, sizeof(desc),
			 "too many control connections (at most %d)",
			 CONTROL_MAX_CLIENTS);
		send_error(fd, desc);
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
	c->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
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

/* Stops the thread, closes every connection, the self-pipe and the socket
 * (unlinking it if it is still ours). */
static void server_stop(struct control *c)
{
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
	if (c->spare_fd >= 0)
		close(c->spare_fd);
	c->spare_fd = -1;
	free(c->path);
	c->path = NULL;
}

int control_create(struct vm *vm, struct control **out)
{
	struct control *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c->listen_fd = c->spare_fd = -1;
	c->wake_fd[0] = c->wake_fd[1] = -1;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	ret = control_commands_create(vm, &c->commands);
	if (ret) {
		free(c);
		return ret;
	}
	*out = c;
	return 0;
}

void control_stop(struct control *c)
{
	if (!c)
		return;
	server_stop(c);
	control_commands_destroy(c->commands);
	free(c);
}

int control_register(struct control *c, const char *name, const char *help,
		     control_handler_fn *fn, void *opaque)
{
	return control_commands_add(c->commands, name, help, fn, opaque);
}

int control_register_table(struct control *c,
			   const struct control_command_spec *table, size_t n,
			   void *opaque)
{
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++)
		ret = control_register(c, table[i].name, table[i].help,
				       table[i].fn, opaque);
	return ret;
}

int control_defer(struct control *c, void (*fn)(void *arg), void *arg)
{
	return control_commands_defer(c->commands, fn, arg);
}

int control_handle_line(struct control *c, const char *line, size_t len,
			struct jw *reply)
{
	return control_commands_handle_line(c->commands, line, len, reply);
}
