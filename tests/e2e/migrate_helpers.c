// SPDX-License-Identifier: MIT
/* Helpers for migration end-to-end tests (see migrate_helpers.h). */
#include "tests/e2e/migrate_helpers.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TRACKED 32

static pid_t tracked[MAX_TRACKED];
static int nr_tracked;

void mig_track(pid_t pid)
{
	if (nr_tracked < MAX_TRACKED)
		tracked[nr_tracked++] = pid;
}

void mig_kill_leftovers(void)
{
	for (int i = 0; i < nr_tracked; i++)
		if (waitpid(tracked[i], NULL, WNOHANG) == 0) {
			kill(tracked[i], SIGKILL);
			waitpid(tracked[i], NULL, 0);
		}
	nr_tracked = 0;
}

int mig_test_port(int n)
{
	return 20000 + (getpid() * 7 + n * 101) % 30000;
}

static void name_files(struct mig_host *h, const char *name)
{
	snprintf(h->sock, sizeof(h->sock), "/tmp/kt-%d-%s.sock", getpid(),
		 name);
	snprintf(h->serial, sizeof(h->serial), "/tmp/kt-%d-%s.log", getpid(),
		 name);
	unlink(h->sock);
	unlink(h->serial);
}

const char *mig_sbin(const char *name)
{
	static struct {
		char name[16];
		char path[64];
	} found[4];
	static const char *const dirs[] = { "/usr/sbin/", "/sbin/" };
	unsigned int i;

	for (i = 0; i < 4 && found[i].name[0]; i++)
		if (!strcmp(found[i].name, name))
			return found[i].path;
	if (i == 4)
		return name;
	for (unsigned int d = 0; d < 2; d++) {
		snprintf(found[i].path, sizeof(found[i].path), "%s%s", dirs[d],
			 name);
		if (access(found[i].path, X_OK) == 0) {
			snprintf(found[i].name, sizeof(found[i].name), "%s",
				 name);
			return found[i].path;
		}
	}
	return name;
}

/* Runs what follows in network namespace ns (NULL: this one). */
static int netns_prefix(const char **argv, const char *ns)
{
	if (!ns)
		return 0;
	argv[0] = mig_sbin("ip");
	argv[1] = "netns";
	argv[2] = "exec";
	argv[3] = ns;
	return 4;
}

void mig_boot(struct mig_host *h, const char *name, const char *cpus,
	      const char *cmdline)
{
	mig_boot_in(h, NULL, name, cpus, cmdline);
}

/* `kvmtrack run` with a control socket, the console in a file and then
 * `run_args` (NULL-terminated), in network namespace netns (NULL: here). */
static void boot(struct mig_host *h, const char *netns, const char *name,
		 const char *const *run_args)
{
	char serial[80];
	const char *argv[32];
	int n;

	name_files(h, name);
	h->port = 0;
	snprintf(serial, sizeof(serial), "file:%s", h->serial);
	n = netns_prefix(argv, netns);
	for (const char *const *a = (const char *const[]){
		     KVMTRACK_BIN, "run", "--control", h->sock, "--serial",
		     serial, NULL };
	     *a; a++)
		argv[n++] = *a;
	for (; *run_args && n < 31; run_args++)
		argv[n++] = *run_args;
	argv[n] = NULL;
	cr_assert_eq(bg_start(argv, &h->proc), 0);
	mig_track(h->proc.pid);
	cr_assert(wait_for_socket(h->sock, 10000), "%s: no control socket",
		  name);
}

void mig_boot_in(struct mig_host *h, const char *netns, const char *name,
		 const char *cpus, const char *cmdline)
{
	boot(h, netns, name,
	     (const char *const[]){ "-m", "256M", "-c", cpus, "--strict-io",
				    "--cmdline", cmdline, GUEST_ELF, NULL });
}

void mig_restore_in(struct mig_host *h, const char *netns, const char *name,
		    const char *spec, bool strict_io)
{
	boot(h, netns, name,
	     (const char *const[]){ "--restore", spec,
				    strict_io ? "--strict-io" : NULL, NULL });
}

void mig_run_args(struct mig_host *h, const char *name,
		  const char *const *run_args)
{
	boot(h, NULL, name, run_args);
}

void mig_restore_lazy(struct mig_host *h, const char *name, const char *spec)
{
	boot(h, NULL, name,
	     (const char *const[]){ "--restore", spec, "--restore-mode", "lazy",
				    "--strict-io", NULL });
}

void mig_boot_image(struct mig_host *h, const char *name, const char *image)
{
	boot(h, NULL, name,
	     (const char *const[]){ "-m", "64M", "--strict-io", image, NULL });
}

void mig_boot_linux(struct mig_host *h, const char *name, const char *cpus,
		    const char *kernel, const char *initrd,
		    const char *cmdline)
{
	boot(h, NULL, name,
	     (const char *const[]){ "-m", MIG_LINUX_MEM, "-c", cpus,
				    "--initrd", initrd, "--cmdline", cmdline,
				    kernel, NULL });
}

void mig_listen(struct mig_host *h, const char *name, int port)
{
	mig_listen_opts(h, name, port, NULL);
}

void mig_listen_opts(struct mig_host *h, const char *name, int port,
		     const char *const *opts)
{
	mig_listen_in(h, NULL, "127.0.0.1", name, port, opts);
}

static void listen_in(struct mig_host *h, const char *netns, const char *addr,
		      const char *name, int port, bool strict,
		      const char *const *opts)
{
	char serial[80], uri[64];
	const char *argv[32];
	int n = netns_prefix(argv, netns);

	name_files(h, name);
	h->port = port;
	snprintf(serial, sizeof(serial), "file:%s", h->serial);
	snprintf(uri, sizeof(uri), "tcp:%s:%d", addr, port);
	for (const char *const *a = (const char *const[]){
		     KVMTRACK_BIN, "run", "--incoming", uri, "--control",
		     h->sock, "--serial", serial, NULL };
	     *a; a++)
		argv[n++] = *a;
	if (strict)
		argv[n++] = "--strict-io";
	for (; opts && *opts && n < 31; opts++)
		argv[n++] = *opts;
	argv[n] = NULL;
	cr_assert_eq(bg_start(argv, &h->proc), 0);
	mig_track(h->proc.pid);
	/* The source's connect does not retry: wait until it listens. */
	cr_assert(mig_wait_stderr(h, "waiting for a migration on", 10000),
		  "%s does not listen on %s", name, uri);
}

void mig_listen_in(struct mig_host *h, const char *netns, const char *addr,
		   const char *name, int port, const char *const *opts)
{
	listen_in(h, netns, addr, name, port, true, opts);
}

void mig_listen_linux(struct mig_host *h, const char *name, int port)
{
	listen_in(h, NULL, "127.0.0.1", name, port, false, NULL);
}

static void migrate_argv(const char **argv, const struct mig_host *src,
			 const char *uri, const char *const *extra)
{
	int n = 0;

	argv[n++] = KVMTRACK_BIN;
	argv[n++] = "migrate";
	argv[n++] = "--control";
	argv[n++] = src->sock;
	argv[n++] = "--to";
	argv[n++] = uri;
	argv[n++] = "--json";
	for (; extra && *extra && n < 23; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
}

struct proc_result mig_migrate(struct mig_host *src, int port,
			       const char *const *extra)
{
	char uri[64];

	snprintf(uri, sizeof(uri), "tcp:127.0.0.1:%d", port);
	return mig_migrate_uri(src, uri, extra);
}

struct proc_result mig_migrate_uri(struct mig_host *src, const char *uri,
				   const char *const *extra)
{
	const char *argv[24];
	struct proc_result r;

	migrate_argv(argv, src, uri, extra);
	cr_assert_eq(run_cmd(argv, 120, &r), 0);
	return r;
}

void mig_migrate_bg(struct mig_host *src, int port, const char *const *extra,
		    struct bg_proc *p)
{
	const char *argv[24];
	char uri[64];

	snprintf(uri, sizeof(uri), "tcp:127.0.0.1:%d", port);
	migrate_argv(argv, src, uri, extra);
	cr_assert_eq(bg_start(argv, p), 0);
	mig_track(p->pid);
}

struct proc_result mig_migrate_wait(struct bg_proc *p, int timeout_s)
{
	struct proc_result r;

	bg_wait(p, timeout_s, &r);
	cr_assert(!r.timed_out, "kvmtrack migrate did not end in %d s",
		  timeout_s);
	return r;
}

struct proc_result mig_ctl(const struct mig_host *h, const char *command)
{
	return mig_ctl_args(h, command, NULL);
}

struct proc_result mig_ctl_args(const struct mig_host *h, const char *command,
				const char *args)
{
	const char *argv[] = { KVMTRACK_BIN, "ctl", "--control", h->sock,
			       command, args, NULL };
	struct proc_result r;

	cr_assert_eq(run_cmd(argv, 30, &r), 0);
	return r;
}

bool mig_wait_transferred(const struct mig_host *src, long long bytes,
			  int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		struct proc_result r = mig_ctl(src, "query-migrate");
		bool active = r.out && strstr(r.out, "\"status\":\"active\"");
		long long sent = mig_json_field(r.out, "transferred_bytes");

		proc_result_free(&r);
		if (active && sent >= bytes)
			return true;
		usleep(20000);
	}
	return false;
}

char *mig_stderr(const struct mig_host *h)
{
	return read_file(h->proc.err_path, NULL);
}

static int count_of(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

bool mig_wait_stderr_count(const struct mig_host *h, const char *needle,
			   int count, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		char *err = mig_stderr(h);
		bool found = count_of(err, needle) >= count;

		free(err);
		if (found)
			return true;
		usleep(20000);
	}
	return false;
}

bool mig_wait_stderr(const struct mig_host *h, const char *needle,
		     int timeout_ms)
{
	return mig_wait_stderr_count(h, needle, 1, timeout_ms);
}

int mig_connect_local(int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char service[16];
	int fd;

	snprintf(service, sizeof(service), "%d", port);
	cr_assert_eq(getaddrinfo("127.0.0.1", service, &hints, &ai), 0);
	fd = socket(ai->ai_family, ai->ai_socktype, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, ai->ai_addr, ai->ai_addrlen), 0,
		     "connect to %d: %s", port, strerror(errno));
	freeaddrinfo(ai);
	return fd;
}

void mig_move(struct mig_host *src, struct mig_host *dst, const char *dst_name,
	      int port, bool linux_guest, const char *const *extra)
{
	struct proc_result r, src_end;
	long before;

	if (linux_guest)
		mig_listen_linux(dst, dst_name, port);
	else
		mig_listen(dst, dst_name, port);
	r = mig_migrate(src, port, extra);
	cr_assert_eq(r.status, 0, "migrate failed: %s %s", r.out, r.err);
	cr_expect(strstr(r.out, "\"status\":\"completed\""), "%s", r.out);
	cr_expect(strstr(r.out, "\"verified\":true"), "%s", r.out);
	proc_result_free(&r);
	/* The source ends with a last line saying where the guest went. */
	bg_wait(&src->proc, 20, &src_end);
	cr_expect_eq(src_end.status, 0, "%s", src_end.err);
	cr_expect(strstr(src_end.err, "guest migrated to tcp:127.0.0.1:"),
		  "%s", src_end.err);
	proc_result_free(&src_end);
	before = mig_last_heartbeat(src);
	cr_expect(mig_wait_heartbeat(dst, before + 2, 10000),
		  "the guest does not run at the destination (last beat %ld there, %ld here)",
		  mig_last_heartbeat(dst), before);
}

void mig_expect_guest_verifies(struct mig_host *h, int timeout_s)
{
	struct proc_result r;
	char *log;

	bg_wait(&h->proc, timeout_s, &r);
	log = read_file(h->serial, NULL);
	cr_expect(!r.timed_out, "the guest did not end in %d s", timeout_s);
	cr_expect_eq(r.status, 0, "guest status %d: %s", r.status, r.err);
	cr_expect(log && strstr(log, "kvmtrack-guest: done status=0"), "%s",
		  log);
	cr_expect(log && strstr(log, " bad=0"), "%s", log);
	cr_expect(log && !strstr(log, " verified=0 "),
		  "the guest verified no page: %s", log);
	free(log);
	proc_result_free(&r);
}

void mig_expect_guest_runs(const struct mig_host *h, const char *why)
{
	long before = mig_last_heartbeat(h);

	cr_expect(mig_wait_heartbeat(h, before + 2, 10000),
		  "%s: the guest stopped running (last heartbeat %ld)", why,
		  mig_last_heartbeat(h));
}

void mig_quit(struct mig_host *h)
{
	struct proc_result r = mig_ctl(h, "quit");

	proc_result_free(&r);
	bg_wait(&h->proc, 30, &r);
	cr_expect_eq(r.status, 0, "quit: status %d: %s", r.status, r.err);
	proc_result_free(&r);
}

void mig_stop(struct mig_host *h)
{
	struct proc_result r;

	kill(h->proc.pid, SIGTERM);
	bg_wait(&h->proc, 10, &r);
	cr_expect(!r.timed_out && r.status == 128 + SIGTERM,
		  "SIGTERM did not end %s (status %d): %s", h->sock, r.status,
		  r.err);
	proc_result_free(&r);
}

/*
 * A whole heartbeat line at p ("hb N\n" at a line's start; a Linux
 * console ends it "\r\n"): its N, or -1. The switch-over can cut the last
 * line a source printed ("hb 1" there, "57\n" at the destination): such a
 * piece is no heartbeat.
 */
static long heartbeat_at(const char *log, const char *p)
{
	char *end;
	long n;

	if (p != log && p[-1] != '\n')
		return -1;
	n = strtol(p + 3, &end, 10);
	return end > p + 3 && (*end == '\n' || *end == '\r') ? n : -1;
}

long mig_last_heartbeat(const struct mig_host *h)
{
	char *log = read_file(h->serial, NULL);
	long last = -1;

	for (char *p = log; p && (p = strstr(p, "hb ")); p += 3) {
		long n = heartbeat_at(log, p);

		if (n >= 0)
			last = n;
	}
	free(log);
	return last;
}

long mig_first_heartbeat(const struct mig_host *h)
{
	char *log = read_file(h->serial, NULL);
	long first = -1;

	for (char *p = log; p && (p = strstr(p, "hb ")); p += 3) {
		long n = heartbeat_at(log, p);

		if (n >= 0 && (first < 0 || n < first))
			first = n;
	}
	free(log);
	return first;
}

bool mig_wait_heartbeat(const struct mig_host *h, long n, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		if (mig_last_heartbeat(h) > n)
			return true;
		usleep(20000);
	}
	return false;
}

long long mig_json_field(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = json ? strstr(json, pat) : NULL;
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

void mig_expect_failed(const struct proc_result *r, const char *status,
		       const char *needle)
{
	char want[64];

	snprintf(want, sizeof(want), "\"status\":\"%s\"", status);
	cr_expect_eq(r->status, 1, "migrate exit status %d: %s", r->status,
		     r->err);
	cr_expect(r->out && strstr(r->out, want), "want %s: %s", want, r->out);
	cr_expect(r->out && strstr(r->out, "\"verified\":false"), "%s",
		  r->out);
	if (needle)
		cr_expect(r->out && strstr(r->out, "\"error\":") &&
				  strstr(strstr(r->out, "\"error\":"), needle),
			  "the error does not name \"%s\": %s", needle, r->out);
}

long long mig_expect_migrates(struct mig_host *src, struct mig_host *dst,
			      const char *const *extra)
{
	struct proc_result r = mig_migrate(src, dst->port, extra), end;
	long long pages;
	long last;

	cr_assert_eq(r.status, 0, "retry failed: %s %s", r.out, r.err);
	cr_expect(strstr(r.out, "\"status\":\"completed\""), "%s", r.out);
	cr_expect(strstr(r.out, "\"verified\":true"), "%s", r.out);
	pages = mig_json_field(r.out, "normal_pages");
	proc_result_free(&r);
	bg_wait(&src->proc, 20, &end);
	cr_expect_eq(end.status, 0, "%s", end.err);
	cr_expect(strstr(end.err, "guest migrated to"), "%s", end.err);
	proc_result_free(&end);
	last = mig_last_heartbeat(src);
	cr_expect(mig_wait_heartbeat(dst, last + 2, 10000),
		  "the guest does not run at the destination (beat %ld there, %ld at the source)",
		  mig_last_heartbeat(dst), last);
	return pages;
}

static const char *const hop_same_machine[] = { "-m", "256M", "-c", "2", NULL };

void mig_hop(struct mig_host *src, struct mig_host *dst, int n, int port)
{
	struct proc_result r, src_end;
	char name[32];
	long src_last, dst_first;

	snprintf(name, sizeof(name), "pp-%d", n);
	/* Every other destination is started with the machine's options and
	 * builds its VM before the source connects; the others learn it from
	 * the source. */
	if (n % 2)
		mig_listen_opts(dst, name, port, hop_same_machine);
	else
		mig_listen(dst, name, port);
	r = mig_migrate(src, port, NULL);
	cr_assert_eq(r.status, 0, "hop %d failed: %s %s", n, r.out, r.err);
	cr_expect(strstr(r.out, "\"status\":\"completed\""), "hop %d: %s", n,
		  r.out);
	cr_expect(strstr(r.out, "\"verified\":true"), "hop %d: %s", n, r.out);
	cr_expect_gt(mig_json_field(r.out, "normal_pages"), 0, "hop %d: %s", n,
		     r.out);
	proc_result_free(&r);
	bg_wait(&src->proc, 20, &src_end);
	cr_expect_eq(src_end.status, 0, "hop %d, source: %s", n, src_end.err);
	cr_expect(strstr(src_end.err, "guest migrated to tcp:127.0.0.1:"),
		  "hop %d: %s", n, src_end.err);
	proc_result_free(&src_end);

	src_last = mig_last_heartbeat(src);
	cr_assert(mig_wait_heartbeat(dst, src_last + 2, 10000),
		  "hop %d: no progress at the destination (beat %ld there, %ld at the source)",
		  n, mig_last_heartbeat(dst), src_last);
	dst_first = mig_first_heartbeat(dst);
	cr_expect(dst_first > src_last && dst_first <= src_last + 2,
		  "hop %d: the source's heartbeat ended at %ld, the destination's began at %ld",
		  n, src_last, dst_first);
}

void mig_end_guest_verified(struct mig_host *h)
{
	struct proc_result r = mig_ctl_args(h, "testdev",
					    "{\"command\":\"stop\"}");

	cr_expect_eq(r.status, 0, "%s %s", r.out, r.err);
	proc_result_free(&r);
	mig_expect_guest_verifies(h, 60);
}
