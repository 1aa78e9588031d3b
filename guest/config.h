/* SPDX-License-Identifier: MIT */
/* The command line: what to run, and how. */
#ifndef KVMTRACK_GUEST_CONFIG_H
#define KVMTRACK_GUEST_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

/* What a page write stores besides the two stamp words (fill=). */
enum fill_mode {
	FILL_STAMP, /* nothing: the rest of the page keeps its zeros */
	FILL_PAGE, /* every other word: pseudo-random, non-zero (stamp.c) */
};

struct config {
	uint32_t workload; /* enum testdev_workload */
	uint64_t wss_bytes;
	uint64_t rate_pages_per_s; /* 0: as fast as possible */
	uint64_t duration_ms; /* 0: forever */
	uint32_t vcpus; /* writers */
	bool verify;
	uint32_t fill; /* enum fill_mode */
	uint64_t heartbeat_ms;
	uint64_t report_ms;
	uint64_t progress_ms; /* serial progress line period, 0: off */
	bool debugexit; /* force port 0x501 without a DT (QEMU) */
	bool ap_halt; /* apidle=halt: idle secondary CPUs hlt instead of spin */
	uint64_t corrupt_pages; /* debug: spoil this many pages before verify */
	bool crash; /* debug: take a #UD at CPL3 */
	bool sync; /* sync=1: host-driven passes (sync.c) */
	uint32_t write_percent; /* sync: pages per pass, % (1-100) */
	bool alias_loop; /* workload=alias: check again until duration */
	uint64_t alias_probe_gpa; /* alias_loop: an alias made at runtime */
};

extern struct config config;

/* Parses cmdline into `config`, reporting unknown keys and bad values. */
void config_parse(const char *cmdline);
/* Prints the parsed configuration on one line. */
void config_print(void);
/* The command-line name of workload wl (TESTDEV_WL_*), "?" if none. */
const char *workload_name(uint32_t wl);

#endif
