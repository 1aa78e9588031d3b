/* SPDX-License-Identifier: MIT */
/*
 * bench-migrate's plumbing: child processes, the guest's serial lines and
 * the one poll() loop that reads every child's output (bench_migrate_io.c).
 *
 * Timestamps are the point: every fd the harness waits on (both VMMs'
 * stdout, the QMP socket, `kvmtrack migrate`'s stdout) is read by pump(),
 * and a serial line is stamped (CLOCK_MONOTONIC) when the read that
 * completes it returns. Nothing may block outside pump(): QEMU's monitor
 * does not answer while its migration thread holds the big lock during the
 * stop-and-copy, and a blocking read of QMP then would stamp the source's
 * last lines late and shrink the observed downtime.
 */
#ifndef KVMTRACK_BENCH_MIGRATE_IO_H
#define KVMTRACK_BENCH_MIGRATE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "tests/bench/bench_migrate.h"

#define LINE_BYTES 1024
#define MAX_PROGRESS 4096
#define QMP_BUF_BYTES (64 * 1024)
#define CTL_BUF_BYTES (16 * 1024)
#define NS_PER_MS 1000000ll
#define NS_PER_S 1000000000ll
#define BOOT_TIMEOUT_NS (60 * NS_PER_S)
#define RESUME_TIMEOUT_NS (5 * NS_PER_S)
#define WARMUP_MAX_NS (10 * NS_PER_S)
#define QUERY_PERIOD_NS (20 * NS_PER_MS)
#define NO_CAP_BYTES (100ull << 30) /* QEMU: "no cap" is 100 GiB/s */

struct progress_sample {
	int64_t t_ns;
	uint64_t pages;
};

/* A VMM's stdout, which is the guest's serial console. */
struct serial {
	int fd;
	bool eof;
	char line[LINE_BYTES];
	size_t len;
	int64_t started_ns; /* the "workload ... start" line */
	int64_t first_line_ns, last_line_ns; /* any line */
	char first_line[24];
	int64_t first_hb_ns, last_hb_ns;
	long first_hb, last_hb;
	int64_t gap_from_ns; /* longest heartbeat gap after this, if set */
	int64_t max_gap_ns;
	struct progress_sample prog[MAX_PROGRESS];
	unsigned int nr_prog;
	const char *name; /* "src", "dst" in the trace */
	FILE *trace; /* every line, stamped relative to trace_t0_ns */
	int64_t trace_t0_ns;
};

struct capture {
	int fd;
	bool eof;
	char buf[CTL_BUF_BYTES];
	size_t len;
};

struct qmp {
	int fd;
	bool eof;
	char buf[QMP_BUF_BYTES];
	size_t len;
	char *reply; /* the last reply or greeting line, malloc'd */
};

struct session {
	const struct bench_env *env;
	const struct scenario *sc;
	pid_t src_pid, dst_pid, ctl_pid;
	struct serial src, dst;
	struct capture ctl; /* `kvmtrack migrate --json` */
	struct qmp qmp;
	char src_sock[108];
	char uri[64];
	char dst_err[300]; /* the destination's stderr, */
	long dst_err_from; /* its size before this run */
};

/* Starts argv in its own process group with stdout on a pipe (*out_fd),
 * stdin on /dev/null and stderr appended to err_path. */
int spawn(char *const *argv, const char *err_path, pid_t *pid, int *out_fd);
/* SIGTERM the child's group, SIGKILL it after 3 s, reap it. */
void stop_child(pid_t pid);
/* Waits for a child that is ending by itself; returns its wait status. */
int wait_child(pid_t pid);

/* Waits up to timeout_ms for output from any child and takes it in. */
void pump(struct session *s, int timeout_ms);
/* Pumps for ms milliseconds. */
void pump_for(struct session *s, int64_t ms);

/* The number or string after "key" and a colon, anywhere in js. */
bool json_num(const char *js, const char *key, double *out);
bool json_str(const char *js, const char *key, char *out, size_t len);

#endif
