// SPDX-License-Identifier: MIT
/*
 * Dirty-rate accuracy: `kvmtrack dirtyrate` in its three modes (bitmap,
 * ring, sample) beside QEMU's calc-dirty-rate in its three (dirty-bitmap,
 * dirty-ring, page-sampling), both against the guest's own count of the
 * distinct pages it wrote, on the same guest file and workload.
 *
 * Per workload, four VMs are booted one after the other (never two at
 * once: the machine has two cores):
 *   kvmtrack run (default dirty-log backend)  modes bitmap and sample
 *   qemu -enable-kvm                          dirty-bitmap and page-sampling
 *   kvmtrack run --dirty-log ring:4096        ring
 *   qemu -accel kvm,dirty-ring-size=4096      dirty-ring
 * (QEMU refuses dirty-bitmap with the ring on and dirty-ring without it, so
 * each VMM gets the same two instances.) Within an instance the modes
 * alternate, RUNS windows of 1 s each, after a warm-up. Sampling uses
 * 4096 pages per GiB on both (their default, 512, has a ~15% standard
 * error here: the sample pair would be a coin toss).
 *
 * Ground truth: the guest runs with report=1000 progress=1000 and prints,
 * every second, `progress t=.. pages=.. distinct0=N`, N being the distinct
 * working-set pages its writer wrote in its last 1 s report interval (the
 * same number it sends to kvmtrack's test device as
 * interval_distinct_pages; QEMU has no test device, serial has it for
 * both). The serial file is followed while the VM runs, each line timed
 * on arrival; a window's truth is the N of the intervals it overlaps,
 * weighted by the overlap, and its error (measured - truth) / truth. The
 * guest's metadata (stamp table, interval bitmap, stack) is not in N:
 * every dirty log sees those pages too (~0.1% of a sweep, ~1% of hotcold).
 *   sweep at rate R over a working set that lasts longer than the window:
 *     every write is a new page, N = R;
 *   hotcold: 90% of the writes go to 1/8 of the working set, so N is far
 *     below the pages written: a counter of writes (or of ring entries
 *     re-armed by ring resets) overcounts.
 *
 * QEMU reports dirty-rate as an integer in MiB/s (its code shifts bytes by
 * 20; the schema calls it MB/s): pages/s = dirty-rate x 256.
 *
 * Output: a JSON file (--json), a Markdown table with the comparison
 * (--table, also printed on stderr) and Markdown rows on stdout for
 * tests/bench/run.sh's summary.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control/client.h"
#include "lib/json/json.h"

#define MAX_RUNS 20
#define MAX_LINES 4096
#define RING_ENTRIES "4096"
#define PAGES_PER_MIB 256.0
#define START_TIMEOUT_MS 60000
#define QMP_TIMEOUT_MS 15000

enum vmm_id { VMM_KVMTRACK, VMM_QEMU };

/* One (VMM, mode) and what it measured. */
struct cell {
	enum vmm_id vmm;
	const char *mode; /* as the VMM names it */
	const char *pair; /* the mode family: bitmap, ring, sample */
	double measured[MAX_RUNS];
	double truth_w[MAX_RUNS]; /* the guest's, over each window */
	int64_t win_from[MAX_RUNS], win_to[MAX_RUNS]; /* host ms */
	unsigned int nr, failed;
	double truth; /* pages/s, the guest's, median over the instance */
	unsigned int truth_lines;
	double truth_min, truth_max; /* the guest's intervals, min and max */
	double written; /* pages/s the guest wrote (not distinct) */
};

struct workload {
	const char *name;
	struct cell cells[6];
	double truth_nominal; /* sweep: the configured rate; else 0 */
};

struct options {
	const char *kvmtrack, *qemu, *guest, *json_path, *table_path, *logdir;
	const char *mem, *wss;
	const char *sample_pages; /* per GiB, the same on both VMMs */
	unsigned int runs, rate;
	double warmup_s;
	bool verbose;
};

static struct options opt = {
	.kvmtrack = "./kvmtrack",
	.qemu = "qemu-system-x86_64",
	.guest = "guest/kvmtrack-guest.elf",
	.logdir = "bench-results/logs",
	.mem = "1G",
	.wss = "512M",
	.sample_pages = "4096",
	.runs = 5,
	.rate = 20000,
	.warmup_s = 1.5,
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * The guest's serial file, followed while an instance runs: each progress
 * line with the host time it appeared (within TAIL_MS). Line k closes the
 * guest's report interval that ran, in host time, from line k-1 to line k,
 * so a measurement window gets its own truth: the distinct pages per
 * second of the intervals it overlaps, weighted by the overlap.
 */
#define TAIL_MS 5

static struct {
	const char *path; /* NULL: not following */
	off_t off;
	char part[512];
	size_t part_len;
	unsigned int n;
	int64_t at[MAX_LINES];
	double distinct[MAX_LINES];
} tail;

static void tail_line(const char *line, size_t len, int64_t at)
{
	const char *tag = memmem(line, len, "kvmtrack-guest: progress t=", 27);
	unsigned long sec, msec, pages, dist;
	char text[sizeof(tail.part) + 1];

	if (tag) { /* sscanf needs the line's end */
		len -= (size_t)(tag - line);
		memcpy(text, tag, len);
		text[len] = '\0';
		tag = text;
	}
	if (tag && tail.n < MAX_LINES &&
	    sscanf(tag + 27, "%lu.%lus pages=%lu distinct0=%lu", &sec, &msec,
		   &pages, &dist) == 4) {
		tail.at[tail.n] = at;
		tail.distinct[tail.n++] = (double)dist;
	}
}

static void tail_poll(void)
{
	char buf[8192];
	int64_t at = now_ms();
	ssize_t n;
	int fd;

	if (!tail.path || (fd = open(tail.path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	while ((n = pread(fd, buf, sizeof(buf), tail.off)) > 0) {
		tail.off += n;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				tail_line(tail.part, tail.part_len, at);
				tail.part_len = 0;
			} else if (tail.part_len < sizeof(tail.part)) {
				tail.part[tail.part_len++] = buf[i];
			}
		}
	}
	close(fd);
}

static void tail_start(const char *path)
{
	memset(&tail, 0, sizeof(tail));
	tail.path = path;
}

/* Distinct pages/s the guest wrote over host time [from, to]. */
static double tail_truth(int64_t from, int64_t to)
{
	double sum = 0, weight = 0;

	for (unsigned int k = 1; k < tail.n; k++) {
		int64_t lo = tail.at[k - 1] > from ? tail.at[k - 1] : from;
		int64_t hi = tail.at[k] < to ? tail.at[k] : to;

		if (hi > lo) {
			/* report=1000: distinct0 counts one second of guest time. */
			sum += tail.distinct[k] * (double)(hi - lo);
			weight += (double)(hi - lo);
		}
	}
	/* The window must be covered by closed intervals, all but 5%. */
	return weight >= 0.95 * (double)(to - from) ? sum / weight : NAN;
}

/* Sleeps, following the serial file meanwhile. */
static void sleep_ms(int64_t ms)
{
	int64_t end = now_ms() + ms;

	for (int64_t left = ms; left > 0; left = end - now_ms()) {
		nap_ms(left < TAIL_MS ? left : TAIL_MS);
		tail_poll();
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned int n)
{
	double s[MAX_LINES];

	if (!n)
		return NAN;
	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double minmax(const double *v, unsigned int n, bool max)
{
	double m = n ? v[0] : NAN;

	for (unsigned int i = 1; i < n; i++)
		if (max ? v[i] > m : v[i] < m)
			m = v[i];
	return m;
}

/* --- processes ------------------------------------------------------------ */

/* Starts argv, its stdout and stderr appended to log_path; own group. */
static pid_t spawn(char *const *argv, const char *log_path)
{
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "bench-dirtyrate: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int null_fd = open("/dev/null", O_RDONLY);
		int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

		setpgid(0, 0);
		dup2(null_fd, STDIN_FILENO);
		dup2(log_fd, STDOUT_FILENO);
		dup2(log_fd, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	return pid;
}

/* Waits up to grace_ms for pid to exit, then kills its group. */
static void reap(pid_t pid, int64_t grace_ms)
{
	int64_t deadline = now_ms() + grace_ms;
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			return;
		}
		sleep_ms(5);
	}
}

/* Runs argv to the end with its stdout captured (stderr to log_path). */
static char *run_capture(char *const *argv, const char *log_path,
			 int64_t timeout_ms, int *status)
{
	size_t len = 0, cap = 65536;
	char *out = malloc(cap);
	int64_t deadline = now_ms() + timeout_ms;
	int fds[2];
	pid_t pid;

	*status = -1;
	if (!out || pipe2(fds, O_CLOEXEC) < 0) {
		free(out);
		return NULL;
	}
	pid = fork();
	if (pid == 0) {
		int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(fds[1], STDOUT_FILENO);
		dup2(log_fd, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t n;

		int ret;

		if (left <= 0)
			break;
		ret = poll(&pfd, 1, left < TAIL_MS ? (int)left : TAIL_MS);
		tail_poll();
		if (ret == 0)
			continue;
		if (len + 1 >= cap) {
			char *bigger = realloc(out, cap * 2);

			if (!bigger)
				break;
			out = bigger;
			cap *= 2;
		}
		n = read(fds[0], out + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	out[len] = '\0';
	if (pid > 0) {
		int st = 0;

		/* Its stdout is closed; give it until the deadline to exit. */
		while (waitpid(pid, &st, WNOHANG) == 0) {
			if (now_ms() > deadline) {
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				return out;
			}
			sleep_ms(2);
		}
		if (WIFEXITED(st))
			*status = WEXITSTATUS(st);
	}
	return out;
}

/* --- files ---------------------------------------------------------------- */

static char *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0;
	char *buf;

	*len = 0;
	if (!f)
		return NULL;
	buf = malloc(cap + 1);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (n < cap)
			break;
		char *bigger = realloc(buf, cap * 2 + 1);

		if (!bigger) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = bigger;
		cap *= 2;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_size;
}

static bool wait_for_text(const char *path, const char *text,
			  int64_t timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	do {
		size_t len;
		char *buf = read_whole(path, &len);
		bool found = buf && memmem(buf, len, text, strlen(text));

		free(buf);
		if (found)
			return true;
		sleep_ms(50);
	} while (now_ms() < deadline);
	return false;
}

/*
 * The guest's progress lines that started at or after `from` and were
 * complete by `to` (byte offsets in its serial file): the median distinct
 * pages per report interval (1 s), and the median write rate between
 * consecutive lines.
 */
static unsigned int read_truth(const char *serial, off_t from, off_t to,
			       double *distinct_per_s, double *written_per_s,
			       double *lo, double *hi)
{
	static double distinct[MAX_LINES], written[MAX_LINES];
	unsigned int nd = 0, nw = 0;
	double last_t = -1, last_pages = 0;
	size_t len;
	char *buf = read_whole(serial, &len);
	const char *p, *end;

	*distinct_per_s = *written_per_s = NAN;
	if (!buf)
		return 0;
	if ((size_t)to > len)
		to = (off_t)len;
	p = buf + from;
	end = buf + to;
	/* A line already under way at `from` belongs to the time before. */
	if (from > 0 && buf[from - 1] != '\n') {
		p = memchr(p, '\n', (size_t)(end - p));
		p = p ? p + 1 : end;
	}
	while (p < end && nd < MAX_LINES) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *tag;
		unsigned long sec, msec, pages, dist;

		if (!eol)
			break; /* not complete by `to` */
		tag = memmem(p, (size_t)(eol - p), "kvmtrack-guest: progress t=",
			     27);
		if (tag && sscanf(tag + 27, "%lu.%lus pages=%lu distinct0=%lu",
				  &sec, &msec, &pages, &dist) == 4) {
			double t = sec + msec / 1000.0;

			distinct[nd++] = (double)dist;
			if (last_t >= 0 && t > last_t)
				written[nw++] = (pages - last_pages) / (t - last_t);
			last_t = t;
			last_pages = (double)pages;
		}
		p = eol + 1;
	}
	free(buf);
	/* report=1000: each distinct0 is one 1-second interval. */
	*distinct_per_s = median(distinct, nd);
	*written_per_s = median(written, nw);
	*lo = minmax(distinct, nd, false);
	*hi = minmax(distinct, nd, true);
	return nd;
}

/* --- QMP (QEMU's monitor): greeting, then JSON lines, with events ---------- */

struct qmp {
	int fd;
	char buf[1 << 16];
	size_t len;
};

static int qmp_connect(struct qmp *q, const char *path, int64_t timeout_ms)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + timeout_ms;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	q->len = 0;
	do {
		q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (q->fd < 0)
			return -errno;
		if (!connect(q->fd, (struct sockaddr *)&addr, sizeof(addr)))
			return 0;
		close(q->fd);
		q->fd = -1;
		sleep_ms(50);
	} while (now_ms() < deadline);
	return -ETIMEDOUT;
}

/* The next JSON line, parsed. */
static struct json_value *qmp_read(struct qmp *q, int64_t deadline)
{
	for (;;) {
		char *eol = memchr(q->buf, '\n', q->len);
		struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
		int64_t left;
		ssize_t n;

		if (eol) {
			struct json_value *v = NULL;
			size_t line = (size_t)(eol - q->buf);
			char err[128];

			if (json_parse(q->buf, line, &v, err, sizeof(err)))
				v = NULL;
			memmove(q->buf, eol + 1, q->len - line - 1);
			q->len -= line + 1;
			if (!v)
				fprintf(stderr, "bench-dirtyrate: QMP: %s\n", err);
			return v;
		}
		left = deadline - now_ms();
		if (left <= 0 || q->len == sizeof(q->buf) ||
		    poll(&pfd, 1, (int)left) <= 0)
			return NULL;
		n = read(q->fd, q->buf + q->len, sizeof(q->buf) - q->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		q->len += (size_t)n;
	}
}

/* Sends one command; returns its "return" reply (events skipped). */
static struct json_value *qmp_call(struct qmp *q, const char *command,
				   const char *args)
{
	int64_t deadline = now_ms() + QMP_TIMEOUT_MS;
	char msg[512];
	int len = snprintf(msg, sizeof(msg), "{\"execute\":\"%s\"%s%s}\n",
			   command, args ? ",\"arguments\":" : "",
			   args ? args : "");

	if (write(q->fd, msg, (size_t)len) != len)
		return NULL;
	for (;;) {
		struct json_value *v = qmp_read(q, deadline);
		const struct json_value *e;

		if (!v)
			return NULL;
		if (json_get(v, "return"))
			return v;
		e = json_get(v, "error");
		if (e) {
			const char *desc = "?";

			json_get_string(e, "desc", &desc);
			fprintf(stderr, "bench-dirtyrate: QMP %s: %s\n", command,
				desc);
			json_free(v);
			return NULL;
		}
		json_free(v); /* an event or the greeting */
	}
}

/* calc-dirty-rate, then query-dirty-rate until measured: pages/s. */
static double qemu_measure(struct qmp *q, const char *mode, int64_t *from,
			   int64_t *to)
{
	char args[160];
	struct json_value *v;
	int64_t deadline;

	if (strcmp(mode, "page-sampling"))
		snprintf(args, sizeof(args), "{\"calc-time\":1,\"mode\":\"%s\"}",
			 mode);
	else
		snprintf(args, sizeof(args),
			 "{\"calc-time\":1,\"mode\":\"%s\",\"sample-pages\":%d}",
			 mode, atoi(opt.sample_pages));
	v = qmp_call(q, "calc-dirty-rate", args);
	if (!v)
		return NAN;
	json_free(v);
	*from = now_ms();
	deadline = now_ms() + QMP_TIMEOUT_MS;
	while (now_ms() < deadline) {
		const struct json_value *r, *rate;
		const char *status = "";
		double pages = NAN;

		sleep_ms(TAIL_MS);
		v = qmp_call(q, "query-dirty-rate", NULL);
		if (!v)
			return NAN;
		r = json_get(v, "return");
		json_get_string(r, "status", &status);
		rate = json_get(r, "dirty-rate");
		if (!strcmp(status, "measured") && rate &&
		    rate->type == JSON_NUMBER)
			pages = rate->number * PAGES_PER_MIB;
		json_free(v);
		if (!isnan(pages)) {
			/* calc-time 1: the last second before "measured". */
			*to = now_ms();
			if (*to - *from > 1000)
				*from = *to - 1000;
			return pages;
		}
	}
	return NAN;
}

/* --- kvmtrack ------------------------------------------------------------- */

static double kvmtrack_measure(const char *sock, const char *mode,
			       const char *log_path, int64_t *from, int64_t *to)
{
	char *argv[] = { (char *)opt.kvmtrack, "dirtyrate", "--control",
			 (char *)sock, "--mode", (char *)mode, "--period", "1s",
			 "--json", NULL, NULL, NULL };
	struct json_value *v = NULL;
	const struct json_value *rate;
	double pages = NAN;
	char err[128];
	int status;
	char *out;

	if (!strcmp(mode, "sample")) {
		argv[9] = "--sample-pages";
		argv[10] = (char *)opt.sample_pages;
	}
	*from = now_ms();
	out = run_capture(argv, log_path, 30000, &status);
	*to = now_ms();
	if (out && status == 0 && !json_parse(out, strlen(out), &v, err, sizeof(err))) {
		const struct json_value *el = json_get(v, "elapsed_ms");

		rate = json_get(v, "pages_per_s");
		if (rate && rate->type == JSON_NUMBER)
			pages = rate->number;
		/* The window ended just before the reply. */
		if (el && el->type == JSON_NUMBER && *to - (int64_t)el->number > *from)
			*from = *to - (int64_t)el->number;
	}
	json_free(v);
	free(out);
	return pages;
}

/* --- one instance: boot, measure its modes alternately, stop -------------- */

struct instance {
	enum vmm_id vmm;
	bool ring;
	unsigned int cell[2]; /* indices into workload.cells */
	unsigned int nr_cells;
};

static int run_instance(struct workload *wl, const struct instance *in)
{
	const char *vmm_name = in->vmm == VMM_KVMTRACK ? "kvmtrack" : "qemu";
	char serial[512], log[512], sock[100], cmdline[256], serial_arg[600],
		qmp_arg[200], start[64];
	struct qmp q = { .fd = -1 };
	double distinct, written, lo = NAN, hi = NAN;
	off_t from, to;
	unsigned int lines;
	pid_t pid;

	snprintf(serial, sizeof(serial), "%s/dirtyrate-%s-%s-%s.serial",
		 opt.logdir, wl->name, vmm_name, in->ring ? "ring" : "log");
	snprintf(log, sizeof(log), "%s/dirtyrate-%s-%s-%s.log", opt.logdir,
		 wl->name, vmm_name, in->ring ? "ring" : "log");
	snprintf(sock, sizeof(sock), "/tmp/bench-dirtyrate-%d.sock", getpid());
	snprintf(cmdline, sizeof(cmdline),
		 "workload=%s wss=%s rate=%u heartbeat=0 report=1000 progress=1000",
		 wl->name, opt.wss, opt.rate);
	snprintf(start, sizeof(start), "workload %s start", wl->name);
	unlink(serial);
	unlink(log);
	unlink(sock);

	if (in->vmm == VMM_KVMTRACK) {
		char *argv[] = { (char *)opt.kvmtrack, "run", "-m",
				 (char *)opt.mem, "-c", "1", "--serial",
				 serial_arg, "--control", sock, "--cmdline",
				 cmdline, (char *)opt.guest, NULL, NULL, NULL };

		snprintf(serial_arg, sizeof(serial_arg), "file:%s", serial);
		if (in->ring) {
			argv[12] = "--dirty-log";
			argv[13] = "ring:" RING_ENTRIES;
			argv[14] = (char *)opt.guest;
		}
		pid = spawn(argv, log);
	} else {
		/* -enable-kvm, or the same accelerator with the dirty ring. */
		char *argv[] = { (char *)opt.qemu, "-accel",
				 in->ring ? "kvm,dirty-ring-size=" RING_ENTRIES :
					    "kvm",
				 "-m", (char *)opt.mem, "-smp", "1",
				 "-nographic", "-nodefaults", "-serial",
				 serial_arg, "-kernel", (char *)opt.guest,
				 "-append", cmdline, "-qmp", qmp_arg, NULL };

		snprintf(serial_arg, sizeof(serial_arg), "file:%s", serial);
		snprintf(qmp_arg, sizeof(qmp_arg), "unix:%s,server=on,wait=off",
			 sock);
		pid = spawn(argv, log);
	}
	if (pid < 0)
		return -1;
	tail_start(serial);
	if (!wait_for_text(serial, start, START_TIMEOUT_MS)) {
		fprintf(stderr, "bench-dirtyrate: %s (%s) never started the workload, see %s and %s\n",
			vmm_name, in->ring ? "ring" : "log", log, serial);
		kill(-pid, SIGKILL);
		reap(pid, 1000);
		return -1;
	}
	if (in->vmm == VMM_QEMU) {
		struct json_value *v;

		if (qmp_connect(&q, sock, 10000) ||
		    !(v = qmp_call(&q, "qmp_capabilities", NULL))) {
			fprintf(stderr, "bench-dirtyrate: no QMP on %s\n", sock);
			kill(-pid, SIGKILL);
			reap(pid, 1000);
			if (q.fd >= 0)
				close(q.fd);
			return -1;
		}
		json_free(v);
	}
	sleep_ms((int64_t)(opt.warmup_s * 1000));

	from = file_size(serial);
	for (unsigned int r = 0; r < opt.runs; r++) {
		for (unsigned int c = 0; c < in->nr_cells; c++) {
			struct cell *cell = &wl->cells[in->cell[c]];
			int64_t w0 = 0, w1 = 0;
			double pages = in->vmm == VMM_KVMTRACK ?
					       kvmtrack_measure(sock, cell->mode, log, &w0, &w1) :
					       qemu_measure(&q, cell->mode, &w0, &w1);

			if (isnan(pages)) {
				cell->failed++;
				fprintf(stderr, "bench-dirtyrate: %s %s failed, see %s\n",
					vmm_name, cell->mode, log);
				continue;
			}
			cell->win_from[cell->nr] = w0;
			cell->win_to[cell->nr] = w1;
			cell->measured[cell->nr++] = pages;
			if (opt.verbose)
				fprintf(stderr, "bench-dirtyrate:   %s %s %s: %.0f pages/s\n",
					wl->name, vmm_name, cell->mode, pages);
		}
	}
	/* The interval in which the last window ended must be printed. */
	sleep_ms(1200);
	to = file_size(serial);
	lines = read_truth(serial, from, to, &distinct, &written, &lo,
			   &hi);
	for (unsigned int c = 0; c < in->nr_cells; c++) {
		struct cell *cell = &wl->cells[in->cell[c]];

		for (unsigned int i = 0; i < cell->nr; i++)
			cell->truth_w[i] = tail_truth(cell->win_from[i],
						      cell->win_to[i]);
		cell->truth = median(cell->truth_w, cell->nr);
		cell->truth_lines = lines;
		cell->written = written;
		cell->truth_min = lo;
		cell->truth_max = hi;
	}

	if (in->vmm == VMM_QEMU) {
		json_free(qmp_call(&q, "quit", NULL));
		close(q.fd);
	} else {
		struct json_value *v = NULL;
		char err[128];

		if (!control_call(sock, "quit", NULL, &v, err, sizeof(err)))
			json_free(v);
	}
	reap(pid, 10000);
	tail.path = NULL;
	unlink(sock);
	if (lines < 3) {
		fprintf(stderr, "bench-dirtyrate: %s: only %u progress lines in %s\n",
			vmm_name, lines, serial);
		return -1;
	}
	return 0;
}

/* --- results -------------------------------------------------------------- */

static const char *vmm_label(enum vmm_id vmm)
{
	return vmm == VMM_KVMTRACK ? "kvmtrack" : "QEMU";
}

/* Median over the windows of (measured - truth) / truth, each its own. */
static double rel_err(const struct cell *c)
{
	double e[MAX_RUNS];
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->nr; i++)
		if (!isnan(c->truth_w[i]))
			e[n++] = (c->measured[i] - c->truth_w[i]) / c->truth_w[i];
	return median(e, n);
}

/* Root-mean-square of every window's error against the truth. */
static double rms_err(const struct cell *c)
{
	double sum = 0;
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->nr; i++) {
		double e = (c->measured[i] - c->truth_w[i]) / c->truth_w[i];

		if (!isnan(e)) {
			sum += e * e;
			n++;
		}
	}
	return n ? sqrt(sum / n) : NAN;
}

static const struct cell *peer_of(const struct workload *wl,
				  const struct cell *c)
{
	for (unsigned int i = 0; i < 6; i++) {
		const struct cell *o = &wl->cells[i];

		if (o != c && !strcmp(o->pair, c->pair))
			return o;
	}
	return NULL;
}

/* "kvmtrack", "QEMU", "tie" or "-" (a side has no result). */
static const char *winner(const struct workload *wl, const struct cell *c)
{
	const struct cell *k = c->vmm == VMM_KVMTRACK ? c : peer_of(wl, c);
	const struct cell *q = c->vmm == VMM_QEMU ? c : peer_of(wl, c);
	double ek, eq;

	if (!k || !q || !k->nr || !q->nr || isnan(k->truth) || isnan(q->truth))
		return "-";
	ek = fabs(rel_err(k));
	eq = fabs(rel_err(q));
	if (fabs(ek - eq) < 1e-9)
		return "tie";
	return ek < eq ? "kvmtrack" : "QEMU";
}

static void write_table(FILE *f, struct workload *wls, unsigned int nr_wl)
{
	fprintf(f, "# Dirty-rate accuracy: kvmtrack dirtyrate vs QEMU calc-dirty-rate\n\n");
	fprintf(f, "Guest: the bundled guest on both VMMs, `-m %s`, one vCPU, "
		   "`workload=W wss=%s rate=%u heartbeat=0 report=1000`. "
		   "Window 1 s; %u windows per (VMM, mode); the modes of one VM "
		   "alternate. Truth of a window: the guest's own distinct pages per "
		   "second over its 1 s report intervals (serial progress lines, "
		   "timed on arrival) weighted by their overlap with the window; "
		   "\"truth\" below is the median over the windows, \"written\" the "
		   "guest's pages written per second, distinct or not. Error = median "
		   "over the windows of (measured - truth) / truth; rms error = root "
		   "mean square of the same, spread and bias together (the guest's "
		   "rate varies within an interval, so ~1%% is the floor). \"more "
		   "accurate\": smaller |error| of the pair (kvmtrack bitmap / QEMU "
		   "dirty-bitmap, ring / dirty-ring, sample / page-sampling). "
		   "Sampling: %s pages per GiB on both (both VMMs default to 512, "
		   "whose standard error, ~15%% at these rates, would leave the "
		   "sample pair to chance). QEMU's dirty-rate is an integer in MiB/s (256 pages/s "
		   "steps, truncated).\n\n",
		opt.mem, opt.wss, opt.rate, opt.runs, opt.sample_pages);
	for (unsigned int w = 0; w < nr_wl; w++) {
		struct workload *wl = &wls[w];

		fprintf(f, "## workload=%s", wl->name);
		if (wl->truth_nominal > 0)
			fprintf(f, " (analytical truth %.0f pages/s: every write is a new page)",
				wl->truth_nominal);
		fprintf(f, "\n\n| VMM | mode | measured pages/s | min | max | truth pages/s | written pages/s | error %% | rms error %% | more accurate |\n");
		fprintf(f, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
		for (unsigned int i = 0; i < 6; i++) {
			const struct cell *c = &wl->cells[i];

			if (!c->nr) {
				fprintf(f, "| %s | %s | failed | | | | | | | |\n",
					vmm_label(c->vmm), c->mode);
				continue;
			}
			fprintf(f, "| %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %+.2f | %.2f | %s |\n",
				vmm_label(c->vmm), c->mode,
				median(c->measured, c->nr),
				minmax(c->measured, c->nr, false),
				minmax(c->measured, c->nr, true), c->truth,
				c->written, 100 * rel_err(c),
				100 * rms_err(c), winner(wl, c));
		}
		fprintf(f, "\n");
	}
}

static void json_list(FILE *f, const double *v, unsigned int n)
{
	fputc('[', f);
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, isnan(v[i]) ? "%snull" : "%s%.1f", i ? ", " : "",
			v[i]);
	fputc(']', f);
}

static int write_json(const char *path, struct workload *wls,
		      unsigned int nr_wl)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "{\n  \"benchmark\": \"dirty_rate_accuracy\",\n");
	fprintf(f, "  \"mem\": \"%s\",\n  \"wss\": \"%s\",\n  \"rate_pages_per_s\": %u,\n",
		opt.mem, opt.wss, opt.rate);
	fprintf(f, "  \"window_s\": 1,\n  \"runs\": %u,\n  \"sample_pages_per_gib\": %d,\n",
		opt.runs, atoi(opt.sample_pages));
	fprintf(f, "  \"ring_entries\": %s,\n", RING_ENTRIES);
	fprintf(f, "  \"truth\": \"guest progress lines: distinct pages per 1 s report interval, median over each VM's measurement\",\n");
	fprintf(f, "  \"qemu_unit\": \"dirty-rate is integer MiB/s; pages/s = dirty-rate * 256\",\n");
	fprintf(f, "  \"workloads\": [\n");
	for (unsigned int w = 0; w < nr_wl; w++) {
		struct workload *wl = &wls[w];

		fprintf(f, "    {\"workload\": \"%s\", \"results\": [\n", wl->name);
		for (unsigned int i = 0; i < 6; i++) {
			const struct cell *c = &wl->cells[i];

			fprintf(f, "      {\"vmm\": \"%s\", \"mode\": \"%s\", \"ok_runs\": %u, \"failed_runs\": %u, ",
				c->vmm == VMM_KVMTRACK ? "kvmtrack" : "qemu",
				c->mode, c->nr, c->failed);
			if (c->nr && !isnan(rel_err(c))) {
				fprintf(f, "\"median_pages_per_s\": %.1f, \"truth_pages_per_s\": %.1f, ",
					median(c->measured, c->nr), c->truth);
				fprintf(f, "\"written_pages_per_s\": %.1f, \"truth_intervals\": %u, ",
					c->written, c->truth_lines);
				fprintf(f, "\"truth_interval_min\": %.0f, \"truth_interval_max\": %.0f, ",
					c->truth_min, c->truth_max);
				fprintf(f, "\"error_percent\": %.3f, \"rms_error_percent\": %.3f, \"more_accurate\": \"%s\", ",
					100 * rel_err(c), 100 * rms_err(c), winner(wl, c));
			}
			fprintf(f, "\"samples_pages_per_s\": ");
			json_list(f, c->measured, c->nr);
			fprintf(f, ", \"truth_per_window\": ");
			json_list(f, c->truth_w, c->nr);
			fprintf(f, "}%s\n", i < 5 ? "," : "");
		}
		fprintf(f, "    ]}%s\n", w + 1 < nr_wl ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	return fclose(f);
}

/* Markdown rows for summary.md: | benchmark | subject | median | min | max | unit | note | */
static void print_rows(struct workload *wls, unsigned int nr_wl)
{
	for (unsigned int w = 0; w < nr_wl; w++) {
		struct workload *wl = &wls[w];

		for (unsigned int i = 0; i < 6; i++) {
			const struct cell *c = &wl->cells[i];

			if (!c->nr) {
				printf("| dirty-rate accuracy, %s | %s %s | failed | | | pages/s | |\n",
				       wl->name, vmm_label(c->vmm), c->mode);
				continue;
			}
			printf("| dirty-rate accuracy, %s | %s %s | %.0f | %.0f | %.0f | pages/s | "
			       "truth %.0f, error %+.2f%%; more accurate: %s; %u runs (dirtyrate.md) |\n",
			       wl->name, vmm_label(c->vmm), c->mode,
			       median(c->measured, c->nr),
			       minmax(c->measured, c->nr, false),
			       minmax(c->measured, c->nr, true), c->truth,
			       100 * rel_err(c), winner(wl, c), c->nr);
		}
	}
}

static void init_workload(struct workload *wl, const char *name)
{
	static const struct {
		enum vmm_id vmm;
		const char *mode, *pair;
	} cells[6] = {
		{ VMM_KVMTRACK, "bitmap", "bitmap" },
		{ VMM_QEMU, "dirty-bitmap", "bitmap" },
		{ VMM_KVMTRACK, "ring", "ring" },
		{ VMM_QEMU, "dirty-ring", "ring" },
		{ VMM_KVMTRACK, "sample", "sample" },
		{ VMM_QEMU, "page-sampling", "sample" },
	};

	memset(wl, 0, sizeof(*wl));
	wl->name = name;
	for (unsigned int i = 0; i < 6; i++) {
		wl->cells[i].vmm = cells[i].vmm;
		wl->cells[i].mode = cells[i].mode;
		wl->cells[i].pair = cells[i].pair;
		wl->cells[i].truth = NAN;
		wl->cells[i].written = NAN;
	}
	if (!strcmp(name, "sweep"))
		wl->truth_nominal = opt.rate;
}

static int usage(FILE *f, int status)
{
	fprintf(f,
		"Usage: bench-dirtyrate [options]\n"
		"  --kvmtrack PATH   kvmtrack binary (./kvmtrack)\n"
		"  --qemu PATH       QEMU binary (qemu-system-x86_64)\n"
		"  --guest PATH      guest image (guest/kvmtrack-guest.elf)\n"
		"  --runs N          windows per (VMM, mode) (5, at most %d)\n"
		"  --rate N          guest pages/s (20000)\n"
		"  --mem SIZE        guest RAM (1G)\n"
		"  --wss SIZE        guest working set (512M)\n"
		"  --sample-pages N  sampled pages per GiB, both VMMs (4096)\n"
		"  --workloads LIST  comma-separated: sweep,hotcold (random works too)\n"
		"  --log-dir DIR     serial and VMM logs (bench-results/logs)\n"
		"  --json PATH       write the results as JSON\n"
		"  --table PATH      write the comparison as Markdown\n"
		"  --verbose         print every window\n",
		MAX_RUNS);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kvmtrack", required_argument, NULL, 'k' },
		{ "qemu", required_argument, NULL, 'q' },
		{ "guest", required_argument, NULL, 'g' },
		{ "runs", required_argument, NULL, 'r' },
		{ "rate", required_argument, NULL, 'R' },
		{ "mem", required_argument, NULL, 'm' },
		{ "wss", required_argument, NULL, 'w' },
		{ "sample-pages", required_argument, NULL, 'S' },
		{ "workloads", required_argument, NULL, 'W' },
		{ "log-dir", required_argument, NULL, 'l' },
		{ "json", required_argument, NULL, 'j' },
		{ "table", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* kvmtrack and QEMU alternate, the same pair of set-ups each. */
	static const struct instance instances[] = {
		{ VMM_KVMTRACK, false, { 0, 4 }, 2 },
		{ VMM_QEMU, false, { 1, 5 }, 2 },
		{ VMM_KVMTRACK, true, { 2 }, 1 },
		{ VMM_QEMU, true, { 3 }, 1 },
	};
	char workloads_buf[128] = "sweep,hotcold", *save = NULL, *name;
	struct workload wls[4];
	unsigned int nr_wl = 0;
	int o, status = 0;

	while ((o = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (o) {
		case 'k': opt.kvmtrack = optarg; break;
		case 'q': opt.qemu = optarg; break;
		case 'g': opt.guest = optarg; break;
		case 'r': opt.runs = (unsigned int)atoi(optarg); break;
		case 'R': opt.rate = (unsigned int)atoi(optarg); break;
		case 'm': opt.mem = optarg; break;
		case 'w': opt.wss = optarg; break;
		case 'S': opt.sample_pages = optarg; break;
		case 'W': snprintf(workloads_buf, sizeof(workloads_buf), "%s", optarg); break;
		case 'l': opt.logdir = optarg; break;
		case 'j': opt.json_path = optarg; break;
		case 't': opt.table_path = optarg; break;
		case 'v': opt.verbose = true; break;
		case 'h': return usage(stdout, 0);
		default: return usage(stderr, 2);
		}
	}
	if (optind != argc || opt.runs < 1 || opt.runs > MAX_RUNS || !opt.rate ||
	    atoi(opt.sample_pages) < 128 || atoi(opt.sample_pages) > 16384)
		return usage(stderr, 2);
	signal(SIGPIPE, SIG_IGN);
	mkdir(opt.logdir, 0755);

	for (name = strtok_r(workloads_buf, ",", &save); name && nr_wl < 4;
	     name = strtok_r(NULL, ",", &save)) {
		struct workload *wl = &wls[nr_wl++];

		init_workload(wl, name);
		for (unsigned int i = 0; i < sizeof(instances) / sizeof(*instances); i++) {
			const struct instance *in = &instances[i];

			fprintf(stderr, "bench-dirtyrate: workload=%s, %s%s: %u windows of 1 s per mode\n",
				name, in->vmm == VMM_KVMTRACK ? "kvmtrack" : "QEMU",
				in->ring ? " with the dirty ring" : "", opt.runs);
			if (run_instance(wl, in))
				status = 1;
		}
		for (unsigned int i = 0; i < 6; i++)
			if (!wl->cells[i].nr || wl->cells[i].failed)
				status = 1;
	}

	write_table(stderr, wls, nr_wl);
	if (opt.table_path) {
		FILE *f = fopen(opt.table_path, "w");

		if (!f) {
			status = 1;
		} else {
			write_table(f, wls, nr_wl);
			fclose(f);
		}
	}
	if (opt.json_path && write_json(opt.json_path, wls, nr_wl))
		status = 1;
	print_rows(wls, nr_wl);
	return status;
}
