/* SPDX-License-Identifier: MIT */
/*
 * The live-migration benchmark (bench-migrate): one scenario run is one
 * migration of the bundled guest from a source VMM to a destination VMM
 * on this machine, driven the way a user drives it (kvmtrack: `kvmtrack
 * migrate`; QEMU: QMP), while the harness timestamps the guest's serial
 * lines from both processes as they arrive.
 */
#ifndef KVMTRACK_BENCH_MIGRATE_H
#define KVMTRACK_BENCH_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>

enum vmm_id { VMM_KVMTRACK, VMM_QEMU, NR_VMMS };

struct scenario {
	const char *id; /* "a" */
	const char *name; /* file name part: migrate-<id>-<name>.json */
	const char *title;
	const char *cmdline; /* the guest's */
	/* Debian's kernel with the Linux tests' initramfs and its writer
	 * (bench_env's linux_kernel and linux_initrd) instead of the
	 * bundled guest */
	bool linux_guest;
	const char *mem; /* "1G", understood by both VMMs */
	const char *cpus; /* vCPUs; NULL: 1 */
	unsigned int warmup_ms; /* guest runs at least this long first */
	uint64_t rate_pages; /* its paced rate; 0: idle */
	uint64_t max_bandwidth_bytes; /* 0: no cap */
	bool auto_converge;
	unsigned int timeout_s; /* then the migration is cancelled */
	unsigned int runs; /* per VMM */
	/* > 0: the guest's writes are also counted over this long from the
	 * migration's start, source then destination, the same for both
	 * VMMs (slowdown_window_pct) */
	unsigned int window_ms;
};

#define MAX_MIGRATE_ARGS 16 /* words in --kvmtrack-migrate-args */

struct bench_env {
	const char *kvmtrack;
	const char *qemu;
	const char *guest;
	const char *linux_kernel; /* scenario (l); NULL: not run */
	const char *linux_initrd;
	const char *log_dir;
	int port; /* the destination listens here */
	bool verbose;
	/* --kvmtrack-migrate-args: appended to `kvmtrack migrate`, as given
	 * (for the record) and split at blanks */
	const char *migrate_args;
	char **migrate_argv;
	int nr_migrate_argv;
};

/* What one migration measured; NAN (or -1 for counters) is "not known". */
struct run_result {
	bool ran; /* both VMMs started and the migration was issued */
	bool completed; /* the VMM said completed, the guest ran again */
	double warmup_ms; /* workload start -> migration start */
	char status[32];
	double total_ms; /* the VMM's own figures */
	double setup_ms;
	double downtime_ms;
	double observed_ms; /* last source "hb" line -> first destination one */
	double wire_bytes;
	double passes;
	double throttle_final; /* percent */
	double throttle_max;
	double rate_before; /* guest pages/s, from its progress lines */
	double rate_during;
	double rate_last_s; /* the last second on the source */
	double slowdown_pct; /* 100 * (1 - during / before) */
	double max_hb_gap_ms; /* on the source, during the migration */
	double lost_pages; /* before-rate x migration time - pages written */
	/* 100 * (1 - written / (before-rate x window)) over the scenario's
	 * window_ms from the migration's start, on both sides */
	double slowdown_window_pct;
	/* kvmtrack only: downtime_breakdown_us and why it switched over */
	double bd_us[5]; /* stop, final_pages, state, digest, destination */
	char switchover[80];
	long last_src_hb, first_dst_hb;
	char first_dst_line[24]; /* a heartbeat, or the tail of a split one */
};

/* Runs one migration of scenario sc with VMM vmm; false if it could not
 * even start (the result then says why in status). */
bool migrate_run(const struct bench_env *env, const struct scenario *sc,
		 enum vmm_id vmm, unsigned int run_no, struct run_result *res);

/* SIGKILLs the process groups of every child still running. */
void bench_kill_children(void);

int64_t bench_now_ns(void);

#endif
