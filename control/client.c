// SPDX-License-Identifier: MIT
/*
 * The client side of the control socket: one connection, one request line,
 * one reply line. Used by `kvmtrack ctl` and by the tests.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control/client.h"
#include "lib/json/json.h"

/* Replies are JSON texts, which json_parse() caps at 1 MiB. */
#define REPLY_MAX_BYTES ((1u << 20) + 1)

struct call {
	const char *path;
	int fd;
	int timeout_ms;
	struct timespec start;
	char *err;
	size_t err_len;
};

__attribute__((format(printf, 3, 4))) static int
call_fail(struct call *call, int ret, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(call->err, call->err_len, "control socket %s: %s", call->path,
		 msg);
	return ret;
}

static int build_request(const char *command, const char *arguments_json,
			 struct jw *w, char *err, size_t err_len)
{
	struct json_value *args = NULL;
	char msg[256];

	if (arguments_json &&
	    json_parse(arguments_json, strlen(arguments_json), &args, msg,
		       sizeof(msg))) {
		snprintf(err, err_len, "arguments: %s", msg);
		return -EINVAL;
	}
	if (args && args->type != JSON_OBJECT) {
		json_free(args);
		snprintf(err, err_len, "arguments must be a JSON object");
		return -EINVAL;
	}
	jw_object_begin(w, NULL);
	jw_string(w, "execute", command);
	if (args)
		jw_value(w, "arguments", args);
	jw_object_end(w);
	json_free(args);
	return jw_finish(w) ? 0 : -ENOMEM;
}

static int call_connect(struct call *call)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int ret;

	if (strlen(call->path) >= sizeof(addr.sun_path))
		return call_fail(call, -ENAMETOOLONG, "path too long");
	strcpy(addr.sun_path, call->path);
	call->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (call->fd < 0) {
		ret = -errno;
		return call_fail(call, ret, "socket: %s", strerror(-ret));
	}
	if (connect(call->fd, (struct sockaddr *)&addr, sizeof(addr))) {
		ret = -errno;
		return call_fail(call, ret, "connect: %s", strerror(-ret));
	}
	return 0;
}

/* Milliseconds left for poll(), -1 for no timeout, 0 when expired. */
static int remaining_ms(const struct call *call)
{
	struct timespec now;
	long long elapsed_ms;

	if (call->timeout_ms <= 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed_ms = (now.tv_sec - call->start.tv_sec) * 1000LL +
		     (now.tv_nsec - call->start.tv_nsec) / 1000000;
	return elapsed_ms >= call->timeout_ms ?
		       0 :
		       (int)(call->timeout_ms - elapsed_ms);
}

/* Waits until fd is ready for `events` or the call's time is up. */
static int call_wait(struct call *call, short events, const char *what)
{
	struct pollfd pfd = { .fd = call->fd, .events = events };
	int ret;

	do {
		ret = poll(&pfd, 1, remaining_ms(call));
	} while (ret < 0 && errno == EINTR);
	if (ret < 0) {
		ret = -errno;
		return call_fail(call, ret, "poll: %s", strerror(-ret));
	}
	if (ret == 0)
		return call_fail(call, -ETIMEDOUT, "no %s within %d ms", what,
				 call->timeout_ms);
	return 0;
}

static int call_send(struct call *call, const char *text, size_t len)
{
	while (len) {
		ssize_t n;
		int ret = call_wait(call, POLLOUT, "room to send");

		if (ret)
			return ret;
		n = send(call->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			ret = -errno;
			return call_fail(call, ret, "send: %s", strerror(-ret));
		}
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads up to the first '\n' into a malloc'd, NUL-terminated *line. */
static int call_read_line(struct call *call, char **line)
{
	char *buf = malloc(REPLY_MAX_BYTES + 1), *nl = NULL;
	size_t len = 0;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (!nl && !ret) {
		ssize_t n;

		if (len == REPLY_MAX_BYTES) {
			ret = call_fail(call, -EMSGSIZE, "reply over 1 MiB");
			break;
		}
		ret = call_wait(call, POLLIN, "reply");
		if (ret)
			break;
		n = recv(call->fd, buf + len, REPLY_MAX_BYTES - len,
			 MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			ret = -errno;
			ret = call_fail(call, ret, "recv: %s", strerror(-ret));
		} else if (n == 0) {
			ret = call_fail(call, -ECONNRESET,
					"connection closed before the reply");
		} else {
			nl = memchr(buf + len, '\n', (size_t)n);
			len += (size_t)n;
		}
	}
	if (ret) {
		free(buf);
		return ret;
	}
	*nl = '\0';
	*line = buf;
	return 0;
}

/* Takes the "return" value out of the reply, or the error's desc. */
static int take_result(struct call *call, struct json_value *reply,
		       struct json_value **result)
{
	const struct json_value *error = json_get(reply, "error");
	const char *desc;

	for (size_t i = 0; reply->type == JSON_OBJECT && i < reply->nr_items;
	     i++) {
		if (!strcmp(reply->keys[i], "return")) {
			*result = reply->items[i];
			reply->items[i] = NULL; /* json_free() skips it */
			return 0;
		}
	}
	if (json_get_string(error, "desc", &desc))
		return call_fail(call, -EPROTO,
				 "reply has neither \"return\" nor an error");
	snprintf(call->err, call->err_len, "%s", desc);
	return -EREMOTEIO;
}

/*
 * Sends the request line and reads the reply line. A server that refuses
 * the connection (too many clients) writes why and closes it, often before
 * the request is sent: the send then fails with EPIPE while the reason
 * waits to be read, and that reason is the error worth reporting.
 */
static int call_round_trip(struct call *call, const char *request,
			   char **line)
{
	char send_err[256];
	int ret = call_send(call, request, strlen(request));

	if (!ret)
		ret = call_send(call, "\n", 1);
	if (!ret)
		return call_read_line(call, line);
	if (ret != -EPIPE && ret != -ECONNRESET)
		return ret;
	snprintf(send_err, sizeof(send_err), "%s", call->err);
	if (!call_read_line(call, line))
		return 0;
	snprintf(call->err, call->err_len, "%s", send_err);
	return ret;
}

static int call_exchange(struct call *call, const char *request,
			 struct json_value **result)
{
	struct json_value *reply;
	char *line, msg[256];
	int ret;

	ret = call_connect(call);
	if (!ret)
		ret = call_round_trip(call, request, &line);
	if (ret)
		return ret;
	ret = json_parse(line, strlen(line), &reply, msg, sizeof(msg));
	free(line);
	if (ret)
		return call_fail(call, -EPROTO, "bad reply: %s", msg);
	ret = take_result(call, reply, result);
	json_free(reply);
	return ret;
}

int control_call_timeout(const char *path, const char *command,
			 const char *arguments_json, int timeout_ms,
			 struct json_value **reply_return, char *err,
			 size_t err_len)
{
	struct call call = { .path = path, .fd = -1, .timeout_ms = timeout_ms,
			     .err = err, .err_len = err_len };
	struct jw request;
	int ret;

	*reply_return = NULL;
	if (err_len)
		err[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &call.start);
	jw_init(&request);
	ret = build_request(command, arguments_json, &request, err, err_len);
	if (!ret)
		ret = call_exchange(&call, request.buf, reply_return);
	if (call.fd >= 0)
		close(call.fd);
	jw_free(&request);
	return ret;
}

int control_call(const char *path, const char *command,
		 const char *arguments_json, struct json_value **reply_return,
		 char *err, size_t err_len)
{
	return control_call_timeout(path, command, arguments_json,
				    CONTROL_CALL_TIMEOUT_MS, reply_return, err,
				    err_len);
}
