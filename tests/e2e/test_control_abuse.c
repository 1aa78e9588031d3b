// SPDX-License-Identifier: MIT
/*
 * A hostile client on the control socket of a real `kvmtrack run` (issue
 * 15): a 10 MB line, invalid UTF-8, nesting 10^5 deep, 100 clients at
 * once, clients that vanish mid-command or stop reading, and the socket's
 * mode. Each one is answered or refused with a message that names what was
 * wrong, and afterwards the guest still beats and a normal command is still
 * answered. Waits follow the guest's heartbeat, not the clock.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/client.h"
#include "control/control.h"
#include "lib/json/json.h"
#include "tests/helpers.h"

#define SOCK "/tmp/kt-e2e-control-abuse.sock"
#define BIG_LINE_BYTES (10u << 20)
#define DEEP_LEVELS 100000
#define NR_CLIENTS 100
/* Generous: everything runs under TCG in the test VM. */
#define WAIT_MS 60000

static struct bg_proc guest;

/*
 * Starts the guest under umask 022, under which a socket that kvmtrack
 * left as bind() made it would be 0755, so the mode test means something.
 */
static void start_guest(void)
{
	const char *argv[] = { KVMTRACK_BIN, "run", "-m", "64M", "--control",
			       SOCK, "--cmdline", "workload=idle heartbeat=20",
			       GUEST_ELF, NULL };
	mode_t old = umask(022);

	unlink(SOCK);
	cr_assert_eq(bg_start(argv, &guest), 0);
	umask(old);
	cr_assert(wait_for_socket(SOCK, WAIT_MS), "no control socket");
	cr_assert(bg_wait_output(&guest, "hb 1\n", WAIT_MS),
		  "guest never beat");
}

/* Leaves no kvmtrack behind, whatever the test did. */
static void kill_guest(void)
{
	struct proc_result r;

	if (guest.pid <= 0)
		return;
	kill(guest.pid, SIGKILL);
	bg_wait(&guest, 20, &r);
	proc_result_free(&r);
	guest.pid = 0;
}

/* The number of the guest's last "hb N" line (0 before the first). */
static unsigned long last_heartbeat(void)
{
	char *out = read_file(guest.out_path, NULL), *hb = out;
	unsigned long n = 0;

	while (hb && (hb = strstr(hb, "hb "))) {
		n = strtoul(hb + 3, NULL, 10);
		hb += 3;
	}
	free(out);
	return n;
}

/* The guest beats twice more, and a normal command is answered. */
static void assert_guest_runs(const char *after)
{
	struct json_value *ret;
	char want[32], err[256];
	const char *status;

	snprintf(want, sizeof(want), "hb %lu\n", last_heartbeat() + 2);
	cr_assert(bg_wait_output(&guest, want, WAIT_MS),
		  "after %s: the guest stopped beating", after);
	cr_assert_eq(control_call(SOCK, "status", NULL, &ret, err, sizeof(err)),
		     0, "after %s: %s", after, err);
	cr_assert_eq(json_get_string(ret, "status", &status), 0);
	cr_assert_str_eq(status, "running", "after %s", after);
	json_free(ret);
}

/* "quit" still works and kvmtrack exits cleanly. */
static void quit_guest(void)
{
	struct json_value *ret;
	struct proc_result r;
	char err[256];

	cr_assert_eq(control_call(SOCK, "quit", NULL, &ret, err, sizeof(err)),
		     0, "%s", err);
	json_free(ret);
	bg_wait(&guest, 30, &r);
	guest.pid = 0;
	cr_expect_eq(r.status, 0, "%s", r.err);
	proc_result_free(&r);
}

/* --- a raw client ------------------------------------------------------- */

static int raw_connect(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	strcpy(addr.sun_path, SOCK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0,
		     "connect: %s", strerror(errno));
	return fd;
}

/* Sends it all; false when the server has closed the connection. */
static bool raw_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return false;
		cr_assert_gt(n, 0, "send: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void raw_send_str(int fd, const char *text)
{
	cr_assert(raw_send(fd, text, strlen(text)), "server closed on us");
}

/*
 * Reads one reply line (a reply is small) and parses it; NULL when the
 * server closed the connection instead. A silent server fails the test.
 */
static struct json_value *raw_reply(int fd)
{
	char line[4096], err[256];
	struct json_value *v;
	size_t len = 0;

	while (!len || line[len - 1] != '\n') {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		cr_assert_eq(poll(&pfd, 1, WAIT_MS), 1, "no reply");
		n = recv(fd, line + len, 1, 0);
		if (n <= 0 && !len)
			return NULL;
		cr_assert_eq(n, 1, "connection closed inside a reply");
		cr_assert_lt(++len, sizeof(line), "reply too long");
	}
	cr_assert_eq(json_parse(line, len, &v, err, sizeof(err)), 0,
		     "the reply is no JSON: %s", err);
	return v;
}

/* The error desc of a reply, or NULL when it is not an error. */
static const char *error_desc(const struct json_value *reply)
{
	const char *desc = NULL;

	json_get_string(json_get(reply, "error"), "desc", &desc);
	return desc;
}

/* The next reply on fd must be an error whose desc contains want. */
static void expect_error(int fd, const char *want, const char *what)
{
	struct json_value *r = raw_reply(fd);
	const char *desc;

	cr_assert_not_null(r, "%s: closed without a reply", what);
	desc = error_desc(r);
	cr_assert_not_null(desc, "%s: no error in the reply", what);
	cr_assert(strstr(desc, want), "%s: '%s' lacks '%s'", what, desc, want);
	cr_assert_null(json_get(r, "return"), "%s", what);
	json_free(r);
}

/* The next reply on fd must be the successful one of request `id`. */
static void expect_return(int fd, int64_t id)
{
	struct json_value *r = raw_reply(fd);

	cr_assert_not_null(r, "closed without a reply");
	cr_assert_not_null(json_get(r, "return"), "error: %s", error_desc(r));
	cr_assert_eq(json_get(r, "id")->integer, id);
	json_free(r);
}

/* A request cut off by padding: {"execute":"status","arguments":{"p":"xxx... */
static char *big_line(size_t len)
{
	static const char head[] =
		"{\"execute\":\"status\",\"arguments\":{\"p\":\"";
	char *s = malloc(len);

	cr_assert_not_null(s);
	memset(s, 'x', len);
	memcpy(s, head, strlen(head));
	return s;
}

/* --- the tests ---------------------------------------------------------- */

Test(control_abuse, socket_is_owner_only, .init = start_guest,
     .fini = kill_guest)
{
	struct stat st;

	cr_assert_eq(stat(SOCK, &st), 0, "%s", strerror(errno));
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600,
		     "control socket has mode %04o, not 0600 (umask was 022)",
		     st.st_mode & 07777);
	cr_assert_eq(st.st_uid, getuid());
	assert_guest_runs("stat");
	quit_guest();
}

Test(control_abuse, ten_megabyte_lines, .init = start_guest,
     .fini = kill_guest)
{
	char *line = big_line(BIG_LINE_BYTES);
	char want[64];
	int fd;

	snprintf(want, sizeof(want), "request line longer than %u bytes",
		 CONTROL_MAX_LINE_BYTES);
	/* Refused once, and the request after its '\n' is served. */
	fd = raw_connect();
	cr_assert(raw_send(fd, line, BIG_LINE_BYTES), "closed mid-line");
	raw_send_str(fd, "\n{\"execute\":\"status\",\"id\":1}\n");
	expect_error(fd, want, "10 MB line");
	expect_return(fd, 1);
	close(fd);

	/* A line that never ends: refused, then only the close. */
	fd = raw_connect();
	cr_assert(raw_send(fd, line, BIG_LINE_BYTES), "closed mid-line");
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	expect_error(fd, want, "10 MB without '\\n'");
	cr_assert_null(raw_reply(fd), "a second reply to an endless line");
	close(fd);

	/* The same, gone before its refusal is read. */
	fd = raw_connect();
	raw_send(fd, line, BIG_LINE_BYTES);
	close(fd);
	free(line);
	assert_guest_runs("10 MB lines");
	quit_guest();
}

Test(control_abuse, invalid_utf8, .init = start_guest, .fini = kill_guest)
{
#define WITH_ID(s) "{\"execute\":\"status\",\"id\":\"" s "\"}\n"
	static const char *const bad[] = {
		WITH_ID("\xff\xfe"), /* bytes UTF-8 never uses */
		"{\"execute\":\"sta\xc3\x28tus\"}\n", /* bad continuation */
		WITH_ID("\xc0\xaf"), /* overlong '/' */
		WITH_ID("\xed\xa0\x80"), /* a surrogate */
		WITH_ID("\xf4\x90\x80\x80"), /* above U+10FFFF */
		WITH_ID("\xe2\x82"), /* cut short */
		"{\"execute\":\"status\",\"\x80\":1}\n", /* in a key */
	};
	struct json_value *r;
	int fd = raw_connect();
	const char *id;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_send_str(fd, bad[i]);
		expect_error(fd, "invalid UTF-8 in string", bad[i]);
	}
	raw_send_str(fd, "\xff{\"execute\":\"status\"}\n");
	expect_error(fd, "found byte 0xff", "a stray byte");

	/* Valid UTF-8 goes through whole: the id comes back as sent. */
	raw_send_str(fd, WITH_ID("\xc3\xa9\xf0\x9f\x90\xa7"));
	r = raw_reply(fd);
	cr_assert_not_null(json_get(r, "return"), "%s", error_desc(r));
	cr_assert_eq(json_get_string(r, "id", &id), 0);
	cr_assert_str_eq(id, "\xc3\xa9\xf0\x9f\x90\xa7");
	json_free(r);
	close(fd);
	assert_guest_runs("invalid UTF-8");
	quit_guest();
}

/* `levels` times open, then inner, then `levels` times close, and '\n'. */
static char *nested(int levels, const char *open, const char *inner,
		    const char *close, size_t *len)
{
	size_t o = strlen(open), c = strlen(close), i = strlen(inner);
	char *s = malloc((o + c) * (size_t)levels + i + 1), *p = s;

	cr_assert_not_null(s);
	for (int n = 0; n < levels; n++, p += o)
		memcpy(p, open, o);
	memcpy(p, inner, i);
	p += i;
	for (int n = 0; n < levels; n++, p += c)
		memcpy(p, close, c);
	*p++ = '\n';
	*len = (size_t)(p - s);
	return s;
}

/* Sends the nesting on fd; the reply must be an error containing want. */
static void send_nested(int fd, int levels, const char *open,
			const char *inner, const char *close, const char *want)
{
	char what[64];
	size_t len;
	char *s = nested(levels, open, inner, close, &len);

	snprintf(what, sizeof(what), "%d x '%s'", levels, open);
	cr_assert(raw_send(fd, s, len), "%s: closed on us", what);
	expect_error(fd, want, what);
	free(s);
}

/* The same nesting as a request's "arguments". */
static void send_in_arguments(int fd, int levels, const char *want)
{
	static const char head[] =
		"{\"execute\":\"status\",\"arguments\":{\"a\":";
	size_t len, head_len = strlen(head);
	char *s = nested(levels, "[", "", "]", &len);
	char *line = malloc(head_len + len + 2);

	cr_assert_not_null(line);
	memcpy(line, head, head_len);
	memcpy(line + head_len, s, len - 1);
	memcpy(line + head_len + len - 1, "}}\n", 3);
	cr_assert(raw_send(fd, line, head_len + len + 2), "closed on us");
	expect_error(fd, want, "nesting in arguments");
	free(line);
	free(s);
}

Test(control_abuse, nesting_1e5_deep, .init = start_guest, .fini = kill_guest)
{
	/* What fits a line: 32 levels is the parser's limit. */
	const int fits = (int)CONTROL_MAX_LINE_BYTES / 6;
	const char *depth = "nesting deeper than 32 levels";
	char too_long[64];
	int fd = raw_connect();

	snprintf(too_long, sizeof(too_long),
		 "request line longer than %u bytes", CONTROL_MAX_LINE_BYTES);
	/* 10^5 levels take more than a line: refused for its length. */
	send_nested(fd, DEEP_LEVELS, "[", "", "]", too_long);
	send_nested(fd, DEEP_LEVELS, "{\"a\":", "1", "}", too_long);
	/* As deep as a line holds reaches the parser, which stops at 33. */
	send_nested(fd, fits, "[", "", "]", depth);
	send_nested(fd, fits, "{\"a\":", "1", "}", depth);
	/* Never closed: the parser stops at the limit, not at the end. */
	send_nested(fd, fits, "[", "", "", depth);
	send_in_arguments(fd, fits, depth);
	raw_send_str(fd, "{\"execute\":\"status\",\"id\":2}\n");
	expect_return(fd, 2);
	close(fd);
	assert_guest_runs("deep nesting");
	quit_guest();
}

/* Reads every client's reply: returns how many were answered. */
static int count_answers(const int *fds, int n)
{
	char refused[64];
	int answered = 0;

	snprintf(refused, sizeof(refused),
		 "too many control connections (at most %d)",
		 CONTROL_MAX_CLIENTS);
	for (int i = 0; i < n; i++) {
		struct json_value *r = raw_reply(fds[i]);
		const char *desc;

		cr_assert_not_null(r, "client %d: closed without a word", i);
		desc = error_desc(r);
		if (desc) {
			cr_assert(strstr(desc, refused), "client %d: %s", i,
				  desc);
		} else {
			cr_assert_not_null(json_get(r, "return"));
			cr_assert_eq(json_get(r, "id")->integer, i);
			answered++;
		}
		json_free(r);
	}
	return answered;
}

Test(control_abuse, hundred_clients_at_once, .init = start_guest,
     .fini = kill_guest)
{
	const char *ctl_argv[] = { KVMTRACK_BIN, "ctl", "--control", SOCK,
				   "status", NULL };
	struct json_value *ret;
	struct proc_result r;
	int fds[NR_CLIENTS];
	char req[64], err[256];

	_Static_assert(CONTROL_MAX_CLIENTS < NR_CLIENTS, "some are refused");
	for (int i = 0; i < NR_CLIENTS; i++)
		fds[i] = raw_connect();
	for (int i = 0; i < NR_CLIENTS; i++) {
		snprintf(req, sizeof(req),
			 "{\"execute\":\"status\",\"id\":%d}\n", i);
		/* A refused client may find the connection closed already. */
		raw_send(fds[i], req, strlen(req));
	}
	cr_assert_eq(count_answers(fds, NR_CLIENTS), CONTROL_MAX_CLIENTS);

	/* A client of ours told the same, however fast it was turned away. */
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(control_call(SOCK, "status", NULL, &ret, err,
					  sizeof(err)), -EREMOTEIO, "%s", err);
		cr_assert(strstr(err, "too many control connections"), "%s",
			  err);
	}
	cr_assert_eq(run_cmd(ctl_argv, 30, &r), 0);
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "too many control connections"), "%s", r.err);
	proc_result_free(&r);

	for (int i = 0; i < NR_CLIENTS; i++)
		close(fds[i]);
	assert_guest_runs("100 clients");
	quit_guest();
}

/*
 * Sends buf without ever reading, until all of it is sent or the server
 * has closed the connection; a server that neither reads nor closes fails
 * the test rather than hang it.
 */
static void flood(int fd, const char *buf, size_t len)
{
	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t n;

		cr_assert_eq(poll(&pfd, 1, WAIT_MS), 1,
			     "the server neither reads nor drops a client");
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		cr_assert_gt(n, 0, "send: %s", strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

/* Waits until the server has closed fd, without reading from it. */
static void wait_closed_by_server(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

	cr_assert_eq(poll(&pfd, 1, WAIT_MS), 1,
		     "the server still holds a client that reads nothing");
	cr_assert(pfd.revents & (POLLRDHUP | POLLHUP));
}

Test(control_abuse, clients_that_vanish, .init = start_guest,
     .fini = kill_guest)
{
	static const char req[] = "{\"execute\":\"query-commands\"}\n";
	char *requests = malloc(1u << 20);
	size_t len = 0;
	int fd;

	/* Half a command, then gone: the server answers into the void. */
	for (int i = 0; i < 10; i++) {
		fd = raw_connect();
		raw_send_str(fd, "{\"execute\":\"sta");
		close(fd);
	}
	/* A whole command, gone before its reply. */
	for (int i = 0; i < 10; i++) {
		fd = raw_connect();
		raw_send_str(fd, req);
		close(fd);
	}
	/* Half a command and no more to say: it is parsed, not run. */
	fd = raw_connect();
	raw_send_str(fd, "{\"execute\":\"quit\"");
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	expect_error(fd, "invalid JSON", "half a quit");
	close(fd);
	assert_guest_runs("vanished clients");

	/* One that asks and asks and never reads is dropped, not waited on. */
	while (len + sizeof(req) < (1u << 20)) {
		memcpy(requests + len, req, sizeof(req) - 1);
		len += sizeof(req) - 1;
	}
	fd = raw_connect();
	flood(fd, requests, len);
	wait_closed_by_server(fd);
	close(fd);
	free(requests);
	assert_guest_runs("a client that never reads");
	quit_guest();
}

#define MAX_FDS 4096

/* Whether kvmtrack's descriptor n is /dev/null opened with O_CLOEXEC: the
 * test's own /dev/null, inherited as stdin and by accident, is not. */
static bool is_spare_fd(pid_t pid, long n)
{
	char path[64], target[64], *info;
	unsigned long flags = 0;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/fd/%ld", (int)pid, n);
	len = readlink(path, target, sizeof(target) - 1);
	target[len > 0 ? len : 0] = '\0';
	if (strcmp(target, "/dev/null"))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%ld", (int)pid, n);
	info = read_file(path, NULL);
	if (info && strstr(info, "flags:"))
		flags = strtoul(strstr(info, "flags:") + 6, NULL, 8);
	free(info);
	return flags & O_CLOEXEC;
}

/*
 * The lowest descriptor number kvmtrack has free; *spare is the one the
 * control server keeps to give up when descriptors run out (-1: none).
 */
static int lowest_free_fd(pid_t pid, int *spare)
{
	static bool used[MAX_FDS];
	char path[64];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	cr_assert_not_null(d, "%s: %s", path, strerror(errno));
	*spare = -1;
	while ((e = readdir(d))) {
		char *end;
		long n = strtol(e->d_name, &end, 10);

		if (e->d_name[0] == '.' || *end || n >= MAX_FDS)
			continue;
		used[n] = true;
		if (is_spare_fd(pid, n))
			*spare = (int)n;
	}
	closedir(d);
	for (int n = 0; n < MAX_FDS; n++)
		if (!used[n])
			return n;
	cr_assert_fail("kvmtrack has %d descriptors open", MAX_FDS);
	return -1;
}

Test(control_abuse, out_of_file_descriptors, .init = start_guest,
     .fini = kill_guest)
{
	static const char status_req[] = "{\"execute\":\"status\"}\n";
	struct rlimit old, tight;
	int fd, spare, lowest = lowest_free_fd(guest.pid, &spare);

	/* Every number below the limit taken, as when they run out. */
	cr_assert_lt(spare, lowest, "a hole at %d below the spare fd %d",
		     lowest, spare);
	cr_assert_eq(prlimit(guest.pid, RLIMIT_NOFILE, NULL, &old), 0);
	tight = (struct rlimit){ .rlim_cur = (rlim_t)lowest,
				 .rlim_max = old.rlim_max };
	cr_assert_eq(prlimit(guest.pid, RLIMIT_NOFILE, &tight, NULL), 0);
	fd = raw_connect();
	/* Refused at once, maybe before the request is sent. */
	raw_send(fd, status_req, strlen(status_req));
	expect_error(fd, "out of file descriptors", "no descriptor left");
	close(fd);
	cr_assert_eq(prlimit(guest.pid, RLIMIT_NOFILE, &old, NULL), 0);
	assert_guest_runs("running out of file descriptors");
	quit_guest();
}
