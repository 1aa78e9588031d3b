// SPDX-License-Identifier: MIT
/*
 * The control socket without a VM: the dispatcher through
 * control_handle_line() with test commands, then real sockets in a temp
 * directory through control_call(), raw connections and cmd_ctl().
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control/client.h"
#include "control/control.h"
#include "lib/json/json.h"

static struct control *ctl;
static char dir[64], sock_path[128];
static atomic_int deferred_runs;

/* Returns its arguments, so a test sees what the handler was given. */
static int cmd_echo(struct vm *vm, void *opaque, const struct json_value *args,
		    struct jw *reply, char *err, size_t err_len)
{
	jw_value(reply, NULL, args);
	return 0;
}

static int cmd_fail(struct vm *vm, void *opaque, const struct json_value *args,
		    struct jw *reply, char *err, size_t err_len)
{
	jw_object_begin(reply, NULL); /* discarded with the failure */
	if (json_get(args, "quiet"))
		return -ENOSPC;
	snprintf(err, err_len, "refused: %s", (const char *)opaque);
	return -EPERM;
}

static int cmd_nothing(struct vm *vm, void *opaque,
		       const struct json_value *args, struct jw *reply,
		       char *err, size_t err_len)
{
	return 0;
}

static int cmd_unclosed(struct vm *vm, void *opaque,
			const struct json_value *args, struct jw *reply,
			char *err, size_t err_len)
{
	jw_object_begin(reply, NULL);
	return 0;
}

static int cmd_sleep(struct vm *vm, void *opaque,
		     const struct json_value *args, struct jw *reply,
		     char *err, size_t err_len)
{
	usleep(300 * 1000);
	return 0;
}

static void count_deferred(void *arg)
{
	atomic_fetch_add(&deferred_runs, 1);
}

static int cmd_later(struct vm *vm, void *opaque,
		     const struct json_value *args, struct jw *reply,
		     char *err, size_t err_len)
{
	int ret = control_defer(opaque, count_deferred, NULL);

	/* Only one action per request. */
	cr_assert_eq(control_defer(opaque, count_deferred, NULL), -EBUSY);
	return ret;
}

static void setup(void)
{
	static char why[] = "read-only";

	cr_assert_eq(control_create(NULL, &ctl), 0);
	cr_assert_eq(control_register(ctl, "echo", "returns its arguments",
				      cmd_echo, NULL), 0);
	cr_assert_eq(control_register(ctl, "fail", "fails", cmd_fail, why), 0);
	cr_assert_eq(control_register(ctl, "nothing", "", cmd_nothing, NULL), 0);
	cr_assert_eq(control_register(ctl, "unclosed", "", cmd_unclosed, NULL),
		     0);
	cr_assert_eq(control_register(ctl, "sleep", "", cmd_sleep, NULL), 0);
	cr_assert_eq(control_register(ctl, "later", "", cmd_later, ctl), 0);
	strcpy(dir, "/tmp/kvmtrack-ctl-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", dir);
}

static void teardown(void)
{
	control_stop(ctl);
	ctl = NULL;
	unlink(sock_path);
	rmdir(dir);
}

/* Criterion runs the suite's .init first, then a test's own .init. */
static void setup_listening(void)
{
	cr_assert_eq(control_listen(ctl, sock_path), 0);
}

/* Runs one request line through the dispatcher and parses the reply. */
static struct json_value *handle(const char *line)
{
	struct json_value *reply;
	struct jw w;
	char err[256];

	jw_init(&w);
	cr_assert_eq(control_handle_line(ctl, line, strlen(line), &w), 0);
	cr_assert_eq(json_parse(w.buf, w.len, &reply, err, sizeof(err)), 0,
		     "reply '%s': %s", w.buf, err);
	jw_free(&w);
	return reply;
}

/* Checks an error reply's class and that its desc contains `want`. */
static void assert_error(const struct json_value *reply, const char *class,
			 const char *want)
{
	const struct json_value *error = json_get(reply, "error");
	const char *s;

	cr_assert_not_null(error, "no error in the reply");
	cr_assert_null(json_get(reply, "return"));
	cr_assert_eq(json_get_string(error, "class", &s), 0);
	cr_assert_str_eq(s, class);
	cr_assert_eq(json_get_string(error, "desc", &s), 0);
	cr_assert(strstr(s, want), "desc '%s' lacks '%s'", s, want);
}

TestSuite(control, .init = setup, .fini = teardown);

Test(control, unknown_command)
{
	struct json_value *r = handle("{\"execute\":\"nope\",\"id\":7}");

	assert_error(r, "CommandNotFound", "unknown command \"nope\"");
	cr_assert_eq(json_get(r, "id")->integer, 7, "id echoed on errors");
	json_free(r);
}

Test(control, malformed_json_and_requests)
{
	struct json_value *r = handle("{\"execute\" \"echo\"}");

	assert_error(r, "GenericError",
		     "invalid JSON: json: offset 11: expected ':' after "
		     "object key");
	json_free(r);
	r = handle("[\"echo\"]");
	assert_error(r, "GenericError", "request must be a JSON object");
	json_free(r);
	r = handle("{\"id\":1}");
	assert_error(r, "GenericError", "\"execute\"");
	json_free(r);
	r = handle("{\"execute\":\"echo\",\"arguments\":[1]}");
	assert_error(r, "GenericError", "\"arguments\" must be a JSON object");
	json_free(r);
	r = handle("{\"execute\":\"echo\",\"argument\":{}}");
	assert_error(r, "GenericError", "unexpected member \"argument\"");
	json_free(r);
}

Test(control, blank_line_has_no_reply)
{
	struct jw w;

	jw_init(&w);
	cr_assert_eq(control_handle_line(ctl, " \r", 2, &w), -ENODATA);
	cr_assert_eq(w.len, 0);
	jw_free(&w);
}

Test(control, arguments_and_id_echo)
{
	struct json_value *r = handle(
		"{\"id\":{\"n\":[1,\"x\"]},\"execute\":\"echo\","
		"\"arguments\":{\"gpa\":18446744073709551615,\"s\":\"\\u00e9\"}}");
	const struct json_value *ret = json_get(r, "return"), *id;
	uint64_t gpa;

	cr_assert_not_null(ret);
	cr_assert_eq(json_get_u64(ret, "gpa", &gpa), 0);
	cr_assert_eq(gpa, UINT64_MAX);
	cr_assert_str_eq(json_get(ret, "s")->string, "\xc3\xa9");
	id = json_get(r, "id");
	cr_assert_eq(json_get(id, "n")->items[1]->type, JSON_STRING);
	json_free(r);

	r = handle("{\"execute\":\"echo\"}");
	ret = json_get(r, "return");
	cr_assert(ret && ret->type == JSON_OBJECT && ret->nr_items == 0,
		  "no arguments: the handler sees {}");
	cr_assert_null(json_get(r, "id"), "no id when none was given");
	json_free(r);
}

Test(control, handler_errors)
{
	struct json_value *r = handle("{\"execute\":\"fail\",\"id\":\"a\"}");

	assert_error(r, "GenericError", "refused: read-only");
	cr_assert_str_eq(json_get(r, "id")->string, "a");
	json_free(r);
	r = handle("{\"execute\":\"fail\",\"arguments\":{\"quiet\":1}}");
	assert_error(r, "GenericError", "fail: No space left on device");
	json_free(r);
	r = handle("{\"execute\":\"unclosed\"}");
	assert_error(r, "GenericError", "unclosed: could not build the reply");
	json_free(r);
}

Test(control, builtin_commands)
{
	struct json_value *r = handle("{\"execute\":\"nothing\"}");
	const struct json_value *ret = json_get(r, "return");
	bool found_echo = false;

	cr_assert(ret && ret->type == JSON_OBJECT && ret->nr_items == 0);
	json_free(r);
	r = handle("{\"execute\":\"qmp_capabilities\"}");
	cr_assert_eq(json_get(r, "return")->type, JSON_OBJECT);
	json_free(r);
	r = handle("{\"execute\":\"query-commands\"}");
	ret = json_get(r, "return");
	cr_assert_eq(ret->type, JSON_ARRAY);
	cr_assert_eq(ret->nr_items, 8, "2 built-in + 6 test commands");
	for (size_t i = 0; i < ret->nr_items; i++) {
		const char *name, *help;

		cr_assert_eq(json_get_string(ret->items[i], "name", &name), 0);
		cr_assert_eq(json_get_string(ret->items[i], "help", &help), 0);
		if (!strcmp(name, "echo")) {
			found_echo = true;
			cr_assert_str_eq(help, "returns its arguments");
		}
	}
	cr_assert(found_echo);
	json_free(r);
}

Test(control, register_checks)
{
	cr_assert_eq(control_register(ctl, "echo", "", cmd_echo, NULL), -EEXIST);
	cr_assert_eq(control_register(ctl, "", "", cmd_echo, NULL), -EINVAL);
	cr_assert_eq(control_register(ctl, "x", "", NULL, NULL), -EINVAL);
}

/* --- over a real socket ------------------------------------------------- */

Test(control, socket_round_trip, .init = setup_listening)
{
	struct json_value *ret;
	struct stat st;
	char err[256];

	cr_assert_eq(stat(sock_path, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0600, "owner only");
	cr_assert_eq(control_call(sock_path, "echo", "{\"a\": [1, 2.5, null]}",
				  &ret, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(json_get(ret, "a")->nr_items, 3);
	cr_assert_eq(json_get(ret, "a")->items[1]->number, 2.5);
	json_free(ret);

	cr_assert_eq(control_call(sock_path, "fail", NULL, &ret, err,
				  sizeof(err)), -EREMOTEIO);
	cr_assert_str_eq(err, "refused: read-only");
	cr_assert_null(ret);
	cr_assert_eq(control_call(sock_path, "echo", "[1]", &ret, err,
				  sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "arguments must be a JSON object");
	control_stop(ctl);
	ctl = NULL;
	cr_assert_eq(access(sock_path, F_OK), -1, "control_stop unlinks");
}

Test(control, client_errors_name_the_path)
{
	struct json_value *ret;
	char err[256], want[256];

	snprintf(want, sizeof(want),
		 "control socket %s: connect: No such file or directory",
		 sock_path);
	cr_assert_eq(control_call(sock_path, "echo", NULL, &ret, err,
				  sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, want);
}

Test(control, client_timeout, .init = setup_listening)
{
	struct json_value *ret;
	char err[256];

	cr_assert_eq(control_call_timeout(sock_path, "sleep", NULL, 50, &ret,
					  err, sizeof(err)), -ETIMEDOUT);
	cr_assert(strstr(err, "no reply within 50 ms"), "%s", err);
	cr_assert_eq(control_call(sock_path, "nothing", NULL, &ret, err,
				  sizeof(err)), 0, "%s", err);
	json_free(ret);
}

Test(control, deferred_runs_after_reply, .init = setup_listening)
{
	struct json_value *ret;
	char err[256];

	cr_assert_eq(control_call(sock_path, "later", NULL, &ret, err,
				  sizeof(err)), 0, "%s", err);
	json_free(ret);
	for (int i = 0; i < 100 && !atomic_load(&deferred_runs); i++)
		usleep(10 * 1000);
	cr_assert_eq(atomic_load(&deferred_runs), 1);
}

static int raw_connect(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(addr.sun_path, sock_path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

static void raw_send(int fd, const char *text, size_t len)
{
	cr_assert_eq(send(fd, text, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void raw_send_str(int fd, const char *text)
{
	raw_send(fd, text, strlen(text));
}

/* Reads one reply line of up to line_size bytes (2 s) and parses it. */
static struct json_value *raw_reply_into(int fd, char *line,
					 size_t line_size)
{
	char err[256];
	struct json_value *v;
	size_t len = 0;

	while (!len || line[len - 1] != '\n') {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		cr_assert_eq(poll(&pfd, 1, 2000), 1, "no reply");
		n = recv(fd, line + len, 1, 0);
		cr_assert_eq(n, 1, "connection closed");
		len++;
		cr_assert_lt(len, line_size);
	}
	cr_assert_eq(json_parse(line, len, &v, err, sizeof(err)), 0, "%s", err);
	return v;
}

static struct json_value *raw_reply(int fd)
{
	char line[4096];

	return raw_reply_into(fd, line, sizeof(line));
}

static struct json_value *raw_reply_big(int fd)
{
	char *line = malloc(2 * CONTROL_MAX_LINE_BYTES);
	struct json_value *v = raw_reply_into(fd, line, 2 * CONTROL_MAX_LINE_BYTES);

	free(line);
	return v;
}

Test(control, connection_survives_bad_lines, .init = setup_listening)
{
	size_t long_len = CONTROL_MAX_LINE_BYTES + 5000;
	char *huge = malloc(long_len + 1);
	struct json_value *r;
	int fd = raw_connect();

	raw_send_str(fd, "not json\n");
	r = raw_reply(fd);
	assert_error(r, "GenericError", "invalid JSON: json: offset 0");
	json_free(r);

	memset(huge, 'x', long_len);
	huge[long_len] = '\n';
	raw_send(fd, huge, long_len + 1);
	r = raw_reply(fd);
	assert_error(r, "GenericError", "request line longer than 65536 bytes");
	json_free(r);

	/* Two requests in one write, the second split across writes. */
	raw_send_str(fd, "\n{\"execute\":\"echo\",\"id\":1}\n{\"execute\":");
	raw_send_str(fd, "\"echo\",\"id\":2}\n");
	r = raw_reply(fd);
	cr_assert_not_null(json_get(r, "return"));
	cr_assert_eq(json_get(r, "id")->integer, 1, "blank line unanswered");
	json_free(r);
	r = raw_reply(fd);
	cr_assert_not_null(json_get(r, "return"));
	cr_assert_eq(json_get(r, "id")->integer, 2);
	json_free(r);
	close(fd);
	free(huge);
}

/* Sends a valid request padded to exactly `len` bytes plus its '\n'. */
static const char pad_head[] = "{\"execute\":\"echo\",\"arguments\":{\"p\":\"";

static void send_padded(int fd, size_t len)
{
	char *line = malloc(len + 1);
	size_t head_len = strlen(pad_head);

	memcpy(line, pad_head, head_len);
	memset(line + head_len, 'p', len - head_len - 3);
	memcpy(line + len - 3, "\"}}\n", 4);
	raw_send(fd, line, len + 1);
	free(line);
}

Test(control, line_limit_is_64k, .init = setup_listening)
{
	struct json_value *r;
	int fd = raw_connect();

	send_padded(fd, CONTROL_MAX_LINE_BYTES);
	r = raw_reply_big(fd);
	cr_assert_eq(strlen(json_get(json_get(r, "return"), "p")->string),
		     CONTROL_MAX_LINE_BYTES - strlen(pad_head) - 3);
	json_free(r);
	send_padded(fd, CONTROL_MAX_LINE_BYTES + 1);
	r = raw_reply_big(fd);
	assert_error(r, "GenericError", "longer than 65536 bytes");
	json_free(r);
	close(fd);
}

Test(control, at_most_8_clients, .init = setup_listening)
{
	int fds[CONTROL_MAX_CLIENTS + 1];
	struct json_value *r;

	for (int i = 0; i <= CONTROL_MAX_CLIENTS; i++)
		fds[i] = raw_connect();
	r = raw_reply(fds[CONTROL_MAX_CLIENTS]);
	assert_error(r, "GenericError", "too many control connections");
	json_free(r);
	raw_send_str(fds[0], "{\"execute\":\"nothing\"}\n");
	r = raw_reply(fds[0]);
	cr_assert_not_null(json_get(r, "return"));
	json_free(r);
	for (int i = 0; i <= CONTROL_MAX_CLIENTS; i++)
		close(fds[i]);
}

static void setup_listening_stderr(void)
{
	setup_listening();
	cr_redirect_stderr();
}

Test(control, live_socket_refused_stale_replaced,
     .init = setup_listening_stderr)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct control *other;
	struct json_value *ret;
	char err[256];
	int fd;

	cr_assert_eq(control_create(NULL, &other), 0);
	cr_assert_eq(control_listen(other, sock_path), -EADDRINUSE);
	control_stop(other);
	cr_assert_eq(control_call(sock_path, "nothing", NULL, &ret, err,
				  sizeof(err)), 0, "the live server survives");
	json_free(ret);
	control_stop(ctl);
	ctl = NULL;

	/* A socket file nobody listens on, as a crashed process leaves it. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(addr.sun_path, sock_path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	cr_assert_eq(control_create(NULL, &ctl), 0);
	cr_assert_eq(control_listen(ctl, sock_path), 0);
	cr_assert_eq(control_call(sock_path, "query-commands", NULL, &ret, err,
				  sizeof(err)), 0, "%s", err);
	cr_assert_eq(ret->nr_items, 2);
	json_free(ret);
	snprintf(err, sizeof(err),
		 "kvmtrack: control socket %s: in use by a running kvmtrack "
		 "(or another server)\n", sock_path);
	fflush(stderr);
	cr_assert_stderr_eq_str(err);
}

static void setup_stderr(void)
{
	cr_redirect_stderr();
}

Test(control, regular_file_refused, .init = setup_stderr)
{
	FILE *f = fopen(sock_path, "w");
	char want[256];

	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(control_listen(ctl, sock_path), -EEXIST);
	cr_assert_eq(access(sock_path, F_OK), 0, "the file is left alone");
	snprintf(want, sizeof(want),
		 "kvmtrack: control socket %s: exists and is not a socket\n",
		 sock_path);
	fflush(stderr);
	cr_assert_stderr_eq_str(want);
}

/* --- kvmtrack ctl ------------------------------------------------------- */

static int run_ctl(int argc, const char *const *argv)
{
	return cmd_ctl(argc, (char **)argv);
}

static void setup_ctl(void)
{
	setup_listening();
	cr_redirect_stdout();
	cr_redirect_stderr();
}

Test(control, ctl_prints_return, .init = setup_ctl)
{
	const char *argv[] = { "ctl", "--control", sock_path, "echo",
			       "{\"b\": \"x\\ny\", \"n\": -1}", NULL };

	cr_assert_eq(run_ctl(5, argv), 0);
	fflush(stdout);
	cr_assert_stdout_eq_str("{\"b\":\"x\\ny\",\"n\":-1}\n");
}

Test(control, ctl_server_error, .init = setup_ctl)
{
	const char *argv[] = { "ctl", "-s", sock_path, "fail", NULL };

	cr_assert_eq(run_ctl(4, argv), 1);
	fflush(stderr);
	cr_assert_stderr_eq_str("kvmtrack ctl: fail: refused: read-only\n");
}

Test(control, ctl_usage_errors, .init = setup_ctl)
{
	const char *no_cmd[] = { "ctl", "-s", sock_path, NULL };
	const char *no_path[] = { "ctl", "status", NULL };
	const char *bad_args[] = { "ctl", "-s", sock_path, "echo", "{", NULL };
	const char *array_args[] = { "ctl", "-s", sock_path, "echo", "[]",
				     NULL };

	cr_assert_eq(run_ctl(3, no_cmd), 2);
	cr_assert_eq(run_ctl(2, no_path), 2);
	cr_assert_eq(run_ctl(5, bad_args), 2);
	cr_assert_eq(run_ctl(5, array_args), 2);
	fflush(stdout);
	cr_assert_stdout_eq_str("", "nothing on stdout for usage errors");
}
