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
#include <stdio.h>

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

/* The migration channel: both VMMs, both ends (--tls). */
enum bench_tls { TLS_NONE, TLS_PSK, TLS_X509 };

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
	/* --tls, with the credentials of tests/tls/mkcreds.sh in tls_dir
	 * (dst/, src/, good.psk) and good.psk again as QEMU's keys.psk in
	 * qemu_psk_dir */
	enum bench_tls tls;
	const char *tls_dir;
	char qemu_psk_dir[300];
	/* kvmtrack's records by GnuTLS in the process, not by the kernel
	 * (KVMTRACK_X_TLS_USERSPACE=1 for both `kvmtrack run`s) */
	bool tls_userspace;
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
	double wire_mbs; /* wire_bytes over total_ms, in MB/s (10^6) */
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
	/* kvmtrack: the destination's "migration channel from ..." words */
	char channel[96];
};

/* What bench_migrate.c reports of a run (its metrics[]). */
enum { MT_TOTAL, MT_DOWNTIME, MT_OBSERVED, MT_WIRE, MT_PASSES, MT_SETUP,
       MT_THROTTLE, MT_THROTTLE_MAX, MT_BEFORE, MT_DURING, MT_LAST_S,
       MT_SLOWDOWN, MT_LOST, MT_WINDOW, MT_WARMUP, MT_HB_GAP, MT_WIRE_MBS,
       NR_METRICS };

#define MAX_RUNS 20

struct stats {
	unsigned int n;
	double median, min, max;
};

/* The runs of one VMM (or one TLS variant) and their statistics. */
struct vmm_runs {
	struct run_result r[MAX_RUNS];
	unsigned int nr, nr_ran, nr_completed;
	struct stats st[NR_METRICS];
};

/* Fills v->st from v->r. */
void runs_stats(struct vmm_runs *v);
/* "name": {runs, completed, median, min, max, samples} as JSON. */
void json_vmm(FILE *f, const struct vmm_runs *v, const char *name, bool last);
void json_string(FILE *f, const char *s);
/* x for a table: "n/a", no decimals from 100 on, else two. */
void fmt(char *buf, size_t len, double x);
void loadavg(char *buf, size_t len);

/* "none", "psk", "x509" and back; -1 for another word. */
const char *tls_name(enum bench_tls tls);
enum bench_tls tls_parse(const char *word);
/* bench_migrate_tls.c: --tls-dir's files present, QEMU's keys.psk made. */
int tls_prepare(struct bench_env *env, const char *log_dir);
/* --tls-matrix: base's workload migrated by every TLS variant, runs
 * rounds; JSON in out_dir/migrate-tls.json, the table in md (if not NULL),
 * summary rows on stdout. Returns -1 when a variant never ran. */
int tls_matrix(struct bench_env *env, const struct scenario *base,
	       unsigned int runs, const char *out_dir, FILE *md);

/* Runs one migration of scenario sc with VMM vmm; false if it could not
 * even start (the result then says why in status). */
bool migrate_run(const struct bench_env *env, const struct scenario *sc,
		 enum vmm_id vmm, unsigned int run_no, struct run_result *res);

/* SIGKILLs the process groups of every child still running. */
void bench_kill_children(void);

int64_t bench_now_ns(void);

#endif
