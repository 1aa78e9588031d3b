/* SPDX-License-Identifier: MIT */
/*
 * `kvmtrack bench dirtylog`: a phase-timed dirty-log benchmark in the
 * manner of the kernel's dirty_log_perf_test. It boots the bundled guest in
 * its synchronised mode (sync=1: one pass over the working set per
 * TESTDEV_CMD_CONTINUE, then a REPORT) and times, around the guest's
 * passes: populate (first pass, logging off), enable logging, per
 * iteration the guest's pass, get-log and clear-log, and disable logging.
 * Every iteration also checks the log page by page against the pages the
 * guest wrote.
 *
 * Tracked runs harvest through the dirty module (dirty.h), as migration
 * does; bare runs (--bare) issue only the KVM ioctls (kvm/kvm.h) on the
 * same slots, to give the floor the tracked harvest is compared with.
 */
#ifndef KVMTRACK_BENCH_DIRTYLOG_H
#define KVMTRACK_BENCH_DIRTYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/dirty/dirty.h"
#include "vmm/vm_config.h"

struct vm;
struct testdev;

#define BENCH_DEFAULT_WSS_BYTES (1ull << 30)
#define BENCH_DEFAULT_ITERATIONS 5u
#define BENCH_MAX_ITERATIONS 1000u
#define BENCH_RING_ENTRIES 65536u /* a pass of 1 GiB never fills it */

struct bench_dirtylog_opts {
	const char *image_path;
	uint64_t wss_bytes; /* the working set the guest dirties */
	unsigned int nr_vcpus; /* every vCPU writes its slice */
	struct dirty_config dirty; /* bitmap, manual or ring[:ENTRIES] */
	unsigned int iterations;
	unsigned int write_percent; /* of the working set per pass, 1-100 */
	bool bare; /* time the raw ioctls instead of the dirty module */
	bool verify; /* the guest checks every stamp at the end */
	struct serial_config serial;
};

/* One iteration: the guest's pass and its harvest. Times in ns. */
struct bench_iter {
	uint64_t dirty_ns; /* host: CONTINUE queued -> last pass REPORT */
	uint64_t guest_pass_ns; /* guest TSC: first start -> last end */
	uint64_t get_ns; /* get-log (see bench_dirtylog_split()) */
	uint64_t clear_ns; /* clear-log */
	uint64_t reaper_ns; /* ring: CPU time harvesting during the pass */
	uint64_t pages_written; /* the guest's REPORTs of the pass */
	uint64_t dirty_pages; /* in the log: all of guest RAM */
	uint64_t dirty_in_wss; /* of those, inside the working set */
	uint64_t missing; /* written by the pass, not in the log */
	uint64_t unexpected; /* in the log inside the working set, unwritten */
};

struct bench_dirtylog_result {
	enum dirty_backend backend;
	uint32_t ring_entries;
	bool bare;
	unsigned int nr_vcpus;
	unsigned int write_percent;
	uint64_t guest_ram_bytes;
	uint64_t wss_bytes; /* as the guest laid it out (HELLO) */
	uint64_t wss_base_gpa;
	uint64_t boot_ns; /* vm_run() to the guest's HELLO */
	uint64_t populate_ns; /* host time of the first pass, logging off */
	uint64_t populate_guest_ns;
	uint64_t populate_pages;
	uint64_t enable_ns;
	uint64_t disable_ns;
	unsigned int nr_iters;
	struct bench_iter *iters;
	uint64_t metadata_bound_pages; /* dirty pages allowed outside the wss */
	bool correct; /* every iteration: none missing or unexpected, and
			 metadata within its bound */
	int guest_status; /* vm_run(): the guest's exit status */
};

/* Runs the benchmark. 0, or -errno with err saying why. */
int bench_dirtylog_run(const struct bench_dirtylog_opts *o,
		       struct bench_dirtylog_result *r, char *err,
		       size_t err_len);
void bench_dirtylog_result_free(struct bench_dirtylog_result *r);

/* How get-log / clear-log are split for the backend, one line of text. */
const char *bench_dirtylog_split(enum dirty_backend backend, bool bare);

/* Guest RAM for a working set: room for the image and its metadata. */
uint64_t bench_dirtylog_guest_ram(uint64_t wss_bytes);

#endif
