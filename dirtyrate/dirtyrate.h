/* SPDX-License-Identifier: MIT */
/*
 * Measuring a running guest's dirty rate (`kvmtrack dirtyrate`, the
 * "calc-dirty-rate" control command). The measurement runs inside the
 * `kvmtrack run` process, on the control thread, and blocks it for the
 * whole window: no other control command is answered meanwhile.
 *
 * Three modes:
 *  - bitmap: the VM's dirty log, whatever its backend; distinct pages
 *    written in the window, total and per memslot;
 *  - ring: the same through the dirty ring (the VM must run with
 *    `--dirty-log ring`), plus ring entries per vCPU;
 *  - sample: no logging at all. Random pages are hashed at the start and
 *    at the end of the window; the changed fraction, scaled to all pages,
 *    estimates the dirty pages, with its binomial standard error and a 95%
 *    confidence interval.
 * With wss, the log modes also record the writable working set: distinct
 * pages dirtied in nested windows of 10 ms, 20 ms, 50 ms ... up to a limit
 * (10 s by default), all starting at the same instant.
 *
 * The pure helpers (duration and mode parsing, the sample estimate, the
 * window list) are unit-tested; dirtyrate_measure() needs a running VM.
 */
#ifndef KVMTRACK_DIRTYRATE_H
#define KVMTRACK_DIRTYRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jw;
struct control;
struct vm;

enum dirtyrate_mode {
	DIRTYRATE_BITMAP,
	DIRTYRATE_RING,
	DIRTYRATE_SAMPLE,
};

#define DIRTYRATE_DEFAULT_PERIOD_MS 1000u
#define DIRTYRATE_MAX_PERIOD_MS 3600000u /* one hour */
#define DIRTYRATE_DEFAULT_WSS_MAX_MS 10000u
#define DIRTYRATE_DEFAULT_SAMPLE_PAGES 512u /* per GiB of RAM */
#define DIRTYRATE_MAX_SAMPLE_PAGES 262144u /* per GiB: every page */
#define DIRTYRATE_MAX_WINDOWS 16

struct dirtyrate_request {
	enum dirtyrate_mode mode;
	uint64_t period_ms; /* the window (ignored with wss) */
	bool per_vcpu; /* ring entries per vCPU (ring backend only) */
	bool wss; /* working-set curve up to wss_max_ms */
	uint64_t wss_max_ms;
	uint32_t sample_pages; /* sample mode: pages hashed per GiB */
	bool have_seed; /* sample mode: fixed seed, else from the clock */
	uint64_t seed;
	/* Also count a guest-physical range alone (range_bytes 0: none). */
	uint64_t range_gpa;
	uint64_t range_bytes;
};

/* The window lengths of the working-set curve, up to a limit. */
struct dirtyrate_windows {
	unsigned int nr;
	uint64_t ms[DIRTYRATE_MAX_WINDOWS];
};

/* A sample-mode estimate of the dirty pages among total_pages. */
struct dirtyrate_estimate {
	double pages; /* changed fraction x total pages */
	double stderr_pages; /* binomial standard error, scaled */
	double ci95_low_pages; /* Wilson score interval, scaled */
	double ci95_high_pages;
};

/*
 * Parses a duration: "1s", "500ms", "1.5s", "2" (seconds). At most nine
 * decimals; the result is rounded to whole milliseconds and must lie in
 * [1 ms, DIRTYRATE_MAX_PERIOD_MS]. Returns 0, or -EINVAL (malformed) or
 * -ERANGE (out of range) with a message in err; *ms is left alone then.
 */
int dirtyrate_parse_duration(const char *text, uint64_t *ms, char *err,
			     size_t err_len);

/* "bitmap", "ring" or "sample": 0, else -EINVAL. */
int dirtyrate_parse_mode(const char *text, enum dirtyrate_mode *mode);
const char *dirtyrate_mode_name(enum dirtyrate_mode mode);

/*
 * The working-set windows 10, 20, 50 ms, 0.1, 0.2, 0.5, 1, 2, 5, 10 s ...
 * that do not exceed max_ms, then max_ms itself if it is not one of them.
 */
void dirtyrate_wss_windows(uint64_t max_ms, struct dirtyrate_windows *out);

/*
 * `changed` of `sampled` pages (drawn uniformly, with replacement) changed:
 * estimates how many of total_pages did. The standard error is the
 * binomial one, sqrt(p(1-p)/n); the 95% interval is Wilson's score
 * interval, which unlike p +- 1.96 SE does not collapse to a point when no
 * sampled page (or every one) changed. sampled == 0 gives all zeros.
 */
void dirtyrate_sample_estimate(uint64_t sampled, uint64_t changed,
			       uint64_t total_pages,
			       struct dirtyrate_estimate *out);

/* How many pages sample mode hashes for ram_bytes at pages_per_gib. */
uint64_t dirtyrate_sample_count(uint64_t ram_bytes, uint32_t pages_per_gib);

/*
 * Runs the measurement described by req on vm and writes the result object
 * into reply (the format is in README.md, "Measuring dirty rates"). Blocks
 * for the window; gives up with -ECANCELED when the VM stops meanwhile.
 * Logging switched on for the measurement is switched off again. Returns
 * 0, or -errno with a message in err.
 */
int dirtyrate_measure(struct vm *vm, const struct dirtyrate_request *req,
		      struct jw *reply, char *err, size_t err_len);

/* Adds "calc-dirty-rate" (dirtyrate/commands.c) to the control object c of
 * a VM; unused is there to match vm_add_control_commands(). */
int dirtyrate_register_commands(struct control *c, void *unused);

#endif
