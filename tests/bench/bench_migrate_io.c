// SPDX-License-Identifier: MIT
/*
 * bench-migrate's plumbing: children, serial lines, the poll() loop
 * (bench_migrate_io.h says why everything goes through it).
 */
#include "tests/bench/bench_migrate_io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHILDREN 8

static pid_t children[MAX_CHILDREN];

int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void track(pid_t pid, bool add)
{
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (add && !children[i]) {
			children[i] = pid;
			return;
		}
		if (!add && children[i] == pid)
			children[i] = 0;
	}
}

void bench_kill_children(void)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] > 0)
			kill(-children[i], SIGKILL);
}

int spawn(char *const *argv, const char *err_path, pid_t *pid,
		 int *out_fd)
{
	int fds[2], err;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	*pid = fork();
	if (*pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (*pid == 0) {
		int null_fd = open("/dev/null", O_RDWR);
		int err_fd = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

		setpgid(0, 0);
		dup2(null_fd, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		dup2(err_fd >= 0 ? err_fd : null_fd, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(*pid, *pid);
	track(*pid, true);
	close(fds[1]);
	*out_fd = fds[0];
	return 0;
}

void stop_child(pid_t pid)
{
	int64_t deadline_ns = bench_now_ns() + 3 * NS_PER_S;

	if (pid <= 0)
		return;
	kill(-pid, SIGTERM);
	while (waitpid(pid, NULL, WNOHANG) == 0) {
		if (bench_now_ns() > deadline_ns) {
			kill(-pid, SIGKILL);
			waitpid(pid, NULL, 0);
			break;
		}
		usleep(2000);
	}
	track(pid, false);
}

int wait_child(pid_t pid)
{
	int status = 0;

	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		track(pid, false);
	return status;
}

/* --- the guest's serial lines --------------------------------------------- */

static void serial_hb(struct serial *s, long n, int64_t t)
{
	if (!s->first_hb_ns) {
		s->first_hb_ns = t;
		s->first_hb = n;
	} else if (s->gap_from_ns && s->last_hb_ns >= s->gap_from_ns &&
		   t - s->last_hb_ns > s->max_gap_ns) {
		s->max_gap_ns = t - s->last_hb_ns;
	}
	s->last_hb_ns = t;
	s->last_hb = n;
}

static void serial_line(struct serial *s, int64_t t)
{
	char *line = s->line, *p;

	line[s->len] = '\0';
	if (!s->first_line_ns) {
		s->first_line_ns = t;
		snprintf(s->first_line, sizeof(s->first_line), "%.23s", line);
	}
	s->last_line_ns = t;
	if (s->trace)
		fprintf(s->trace, "%10.3f %s %s\n", (t - s->trace_t0_ns) / 1e6,
			s->name, line);
	if (!strncmp(line, "hb ", 3)) {
		serial_hb(s, strtol(line + 3, NULL, 10), t);
		return;
	}
	p = strstr(line, "kvmtrack-guest: progress t=");
	if (p && (p = strstr(p, " pages=")) && s->nr_prog < MAX_PROGRESS) {
		s->prog[s->nr_prog].t_ns = t;
		s->prog[s->nr_prog++].pages = strtoull(p + 7, NULL, 10);
		return;
	}
	/* The bundled guest's workload, or the Linux tests' writer, starts. */
	if (!s->started_ns && ((strstr(line, "kvmtrack-guest: workload ") &&
				strstr(line, " start:")) ||
			       (strstr(line, "writer: ") &&
				strstr(line, " MiB filled"))))
		s->started_ns = t;
}

/* A line is stamped when its '\n' arrives; '\r' and overlong tails drop. */
static void serial_feed(struct serial *s, const char *data, size_t n,
			int64_t t)
{
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			serial_line(s, t);
			s->len = 0;
		} else if (data[i] != '\r' && s->len < LINE_BYTES - 1) {
			s->line[s->len++] = data[i];
		}
	}
}

/* --- QMP and `kvmtrack migrate` output -------------------------------------- */

static void qmp_feed(struct qmp *q, const char *data, size_t n)
{
	char *nl;

	if (n > sizeof(q->buf) - q->len)
		n = sizeof(q->buf) - q->len; /* a reply this long: cut */
	memcpy(q->buf + q->len, data, n);
	q->len += n;
	while ((nl = memchr(q->buf, '\n', q->len))) {
		size_t line_len = nl - q->buf;

		*nl = '\0';
		/* Events are not answers; the greeting is treated as one. */
		if (!strstr(q->buf, "\"event\"")) {
			free(q->reply);
			q->reply = strdup(q->buf);
		}
		memmove(q->buf, nl + 1, q->len - line_len - 1);
		q->len -= line_len + 1;
	}
	if (q->len == sizeof(q->buf))
		q->len = 0;
}

static void capture_feed(struct capture *c, const char *data, size_t n)
{
	if (n > sizeof(c->buf) - 1 - c->len)
		n = sizeof(c->buf) - 1 - c->len;
	memcpy(c->buf + c->len, data, n);
	c->len += n;
	c->buf[c->len] = '\0';
}

/* Where the value of the first "key": in js starts, or NULL. */
static const char *json_value(const char *js, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = js ? strstr(js, pat) : NULL;
	if (!p)
		return NULL;
	p += strlen(pat);
	p += strspn(p, " \t");
	return *p == ':' ? p + 1 : NULL;
}

bool json_num(const char *js, const char *key, double *out)
{
	const char *p = json_value(js, key);
	char *end;

	if (!p)
		return false;
	*out = strtod(p, &end);
	return end != p;
}

bool json_str(const char *js, const char *key, char *out, size_t len)
{
	const char *p = json_value(js, key);
	size_t n;

	if (!p)
		return false;
	p += strspn(p, " \t");
	if (*p++ != '"')
		return false;
	n = strcspn(p, "\"");
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* --- the event loop -------------------------------------------------------- */

enum fd_kind { FD_SRC, FD_DST, FD_CTL, FD_QMP };

static void dispatch(struct session *s, enum fd_kind kind, int fd)
{
	char buf[64 * 1024];
	ssize_t n = read(fd, buf, sizeof(buf));
	int64_t t = bench_now_ns();

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	switch (kind) {
	case FD_SRC:
	case FD_DST: {
		struct serial *ser = kind == FD_SRC ? &s->src : &s->dst;

		if (n <= 0)
			ser->eof = true;
		else
			serial_feed(ser, buf, n, t);
		break;
	}
	case FD_CTL:
		if (n <= 0)
			s->ctl.eof = true;
		else
			capture_feed(&s->ctl, buf, n);
		break;
	case FD_QMP:
		if (n <= 0)
			s->qmp.eof = true;
		else
			qmp_feed(&s->qmp, buf, n);
		break;
	}
}

void pump(struct session *s, int timeout_ms)
{
	struct pollfd pfd[4];
	enum fd_kind kind[4];
	int n = 0, ret;

#define WATCH(f, eof_flag, k)                                                 \
	do {                                                                  \
		if ((f) >= 0 && !(eof_flag)) {                                \
			pfd[n] = (struct pollfd){ .fd = (f), .events = POLLIN }; \
			kind[n++] = (k);                                      \
		}                                                             \
	} while (0)
	WATCH(s->src.fd, s->src.eof, FD_SRC);
	WATCH(s->dst.fd, s->dst.eof, FD_DST);
	WATCH(s->ctl.fd, s->ctl.eof, FD_CTL);
	WATCH(s->qmp.fd, s->qmp.eof, FD_QMP);
#undef WATCH
	if (!n) {
		usleep(timeout_ms * 1000);
		return;
	}
	ret = poll(pfd, n, timeout_ms);
	for (int i = 0; ret > 0 && i < n; i++)
		if (pfd[i].revents)
			dispatch(s, kind[i], pfd[i].fd);
}

void pump_for(struct session *s, int64_t ms)
{
	int64_t end = bench_now_ns() + ms * NS_PER_MS;

	for (int64_t left; (left = end - bench_now_ns()) > 0;)
		pump(s, (int)(left / NS_PER_MS) + 1);
}
