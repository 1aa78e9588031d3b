/* SPDX-License-Identifier: MIT */
/* Two real kvmtrack processes and a migration between them, for e2e tests. */
#ifndef KVMTRACK_TESTS_MIGRATE_HELPERS_H
#define KVMTRACK_TESTS_MIGRATE_HELPERS_H

#include "tests/helpers.h"

struct mig_host {
	struct bg_proc proc;
	char sock[64]; /* control socket */
	char serial[64]; /* the guest's console, a file */
	int port; /* --incoming port, 0 for a booted source */
};

/* Where a program of /usr/sbin or /sbin is (ip, tc): a user's PATH may
 * not hold those; the bare name if neither has it. */
const char *mig_sbin(const char *name);
/* A free-ish TCP port for this test process (varies with the pid). */
int mig_test_port(int n);
/* Boots the bundled guest with a control socket and a serial file. */
void mig_boot(struct mig_host *h, const char *name, const char *cpus,
	      const char *cmdline);
/* The same inside network namespace netns (`ip netns exec`; NULL: here). */
void mig_boot_in(struct mig_host *h, const char *netns, const char *name,
		 const char *cpus, const char *cmdline);
/* `kvmtrack run --restore SPEC` (a checkpoint chain, or one checkpoint of
 * it), with --strict-io for the bundled guest, in network namespace netns
 * (NULL: here). */
void mig_restore_in(struct mig_host *h, const char *netns, const char *name,
		    const char *spec, bool strict_io);
/* `kvmtrack run` here with a control socket, a serial file and run_args
 * (NULL-terminated, a restore's or a boot's). */
void mig_run_args(struct mig_host *h, const char *name,
		  const char *const *run_args);
/* The same with --restore-mode lazy, here. */
void mig_restore_lazy(struct mig_host *h, const char *name, const char *spec);
/* Boots one of tests/images/ with 64 MiB, strict I/O, no command line. */
void mig_boot_image(struct mig_host *h, const char *name, const char *image);
/* Boots a Linux kernel with MIG_LINUX_MEM of RAM, an initrd and a command
 * line, as a user would: no --strict-io. */
#define MIG_LINUX_MEM "512M"
void mig_boot_linux(struct mig_host *h, const char *name, const char *cpus,
		    const char *kernel, const char *initrd,
		    const char *cmdline);
/* Starts `kvmtrack run --incoming tcp:127.0.0.1:PORT` and waits until it
 * listens. */
void mig_listen(struct mig_host *h, const char *name, int port);
/* The same with more `run` options (NULL-terminated), e.g. -m 128M. */
void mig_listen_opts(struct mig_host *h, const char *name, int port,
		     const char *const *opts);
/* The same inside network namespace netns (NULL: here), on addr. */
void mig_listen_in(struct mig_host *h, const char *netns, const char *addr,
		   const char *name, int port, const char *const *opts);
/* mig_listen() for a Linux guest: no --strict-io. */
void mig_listen_linux(struct mig_host *h, const char *name, int port);
/* Runs `kvmtrack migrate ... --json`; extra: NULL or more options. */
struct proc_result mig_migrate(struct mig_host *src, int port,
			       const char *const *extra);
/* The same to any destination, e.g. "tcp:10.79.0.2:4444". */
struct proc_result mig_migrate_uri(struct mig_host *src, const char *uri,
				   const char *const *extra);
/* The same in the background: finish with mig_migrate_wait(). */
void mig_migrate_bg(struct mig_host *src, int port, const char *const *extra,
		    struct bg_proc *p);
struct proc_result mig_migrate_wait(struct bg_proc *p, int timeout_s);
/* `kvmtrack ctl --control SOCK COMMAND` (stdout holds the JSON reply). */
struct proc_result mig_ctl(const struct mig_host *h, const char *command);
/* The same with arguments, a JSON object (NULL: none). */
struct proc_result mig_ctl_args(const struct mig_host *h, const char *command,
				const char *args);
/* Waits until the source's query-migrate shows the migration active with
 * at least `bytes` sent; false on a timeout or a final status. */
bool mig_wait_transferred(const struct mig_host *src, long long bytes,
			  int timeout_ms);
/* What the process wrote to stderr so far (free it). */
char *mig_stderr(const struct mig_host *h);
/* Waits until `needle` appears in the process's stderr. */
bool mig_wait_stderr(const struct mig_host *h, const char *needle,
		     int timeout_ms);
/* The same until it appears `count` times. */
bool mig_wait_stderr_count(const struct mig_host *h, const char *needle,
			   int count, int timeout_ms);
/* A TCP connection to 127.0.0.1:port (asserts it connects). */
int mig_connect_local(int port);
/*
 * Migrates src to a new destination dst listening on port (a Linux guest's
 * without --strict-io) and checks what a user would: the migration
 * completed and verified, the source ended saying where the guest went,
 * and the guest's heartbeat goes on at the destination.
 */
void mig_move(struct mig_host *src, struct mig_host *dst, const char *dst_name,
	      int port, bool linux_guest, const char *const *extra);
/* Waits for the guest to end there; expects status 0 and every page it
 * wrote verified. */
void mig_expect_guest_verifies(struct mig_host *h, int timeout_s);
/* The bundled guest ends by its own steps (the testdev command stop), as
 * with mig_expect_guest_verifies(): for a guest with no duration. */
void mig_end_guest_verified(struct mig_host *h);
/* Expects the guest to go on running there: 3 more heartbeats. */
void mig_expect_guest_runs(const struct mig_host *h, const char *why);
/* The control command quit, then waits: the guest's host ends with 0. */
void mig_quit(struct mig_host *h);
/* SIGTERM, then waits: for a destination that still listens, which must
 * end with status 128 + SIGTERM. */
void mig_stop(struct mig_host *h);
/* Remembers a process that the test's .fini must kill if still there. */
void mig_track(pid_t pid);
/* Criterion .fini of migration tests: SIGKILL what is left. */
void mig_kill_leftovers(void);
/* Highest heartbeat number in a host's serial file, or -1. */
long mig_last_heartbeat(const struct mig_host *h);
/* Lowest heartbeat number in a host's serial file, or -1. */
long mig_first_heartbeat(const struct mig_host *h);
/* Waits until the host's serial file has a heartbeat above n. */
bool mig_wait_heartbeat(const struct mig_host *h, long n, int timeout_ms);
/*
 * Hop n of a ping-pong: src -> dst, a new process listening on port (every
 * other one started with the machine's options, -m 256M -c 2, so that it
 * builds its VM before the source connects); the migration completed,
 * verified, the source ended saying where the guest went, and the guest's
 * heartbeat goes on at dst, numbered after the source's last.
 */
void mig_hop(struct mig_host *src, struct mig_host *dst, int n, int port);
/* migrate --json ended with `status`, and its error names `needle`
 * (NULL: any error). */
void mig_expect_failed(const struct proc_result *r, const char *status,
		       const char *needle);
/* The guest moves from src to dst (a fresh or a still listening one),
 * migrate given extra (NULL or more options): completed, verified, the
 * source ended, the guest runs at dst. Returns how many pages with data
 * the source sent. */
long long mig_expect_migrates(struct mig_host *src, struct mig_host *dst,
			      const char *const *extra);
/* A numeric field of the migrate --json output, or -1. */
long long mig_json_field(const char *json, const char *key);

#endif
