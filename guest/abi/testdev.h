/* SPDX-License-Identifier: MIT */
/*
 * The kvmtrack test device: the contract between kvmtrack and the bundled
 * guest (guest/). Both sides include this header, so it holds only plain
 * constants and fixed-layout little-endian message formats.
 *
 * The device is a 4 KiB MMIO window (its address is in the device tree node
 * compatible "kvmtrack,testdev", default TESTDEV_MMIO_BASE). Every access
 * from CPL3 costs one exit (~35 us here), so the guest batches: it builds a
 * message in its own RAM and writes the message's guest-physical address to
 * TESTDEV_REG_DOORBELL with one 64-bit store. kvmtrack handles the message
 * synchronously in the exit and may write a reply into the same buffer
 * before the guest resumes.
 */
#ifndef KVMTRACK_TESTDEV_ABI_H
#define KVMTRACK_TESTDEV_ABI_H

#define TESTDEV_MMIO_BASE 0xd0000000ull
#define TESTDEV_MMIO_SIZE 0x1000ull

/* Registers (offsets into the MMIO window). */
#define TESTDEV_REG_ID 0x00 /* r, 32-bit: TESTDEV_ID */
#define TESTDEV_REG_VERSION 0x04 /* r, 32-bit: TESTDEV_VERSION */
#define TESTDEV_REG_DOORBELL 0x08 /* w, 64-bit: GPA of a message */
#define TESTDEV_REG_STATUS 0x10 /* r, 32-bit: 0 or -errno of last message */

#define TESTDEV_ID 0x544d564bu /* "KVMT" */
#define TESTDEV_VERSION 1u

/* A message: 64-byte aligned, wholly inside one RAM region, at most 4 KiB. */
#define TESTDEV_MSG_MAX_BYTES 4096u

enum testdev_msg_type {
	TESTDEV_MSG_HELLO = 1, /* guest started: payload testdev_hello */
	TESTDEV_MSG_REPORT = 2, /* progress, per vCPU: testdev_report */
	TESTDEV_MSG_RESULT = 3, /* final verification: testdev_result */
	TESTDEV_MSG_POLL = 4, /* reply: testdev_poll filled by the host */
	TESTDEV_MSG_FILL = 5, /* host writes a pattern: testdev_fill */
};

/* Every message starts with this header. len_bytes counts the header. */
struct testdev_msg_hdr {
	uint32_t type;
	uint32_t len_bytes;
};

struct testdev_hello {
	struct testdev_msg_hdr hdr;
	uint32_t nr_cpus; /* vCPUs the guest brought up */
	uint32_t workload; /* enum testdev_workload */
	uint64_t wss_bytes; /* working set the workload writes */
	uint64_t wss_base_gpa; /* first byte of the working set */
};

enum testdev_workload {
	TESTDEV_WL_IDLE = 0,
	TESTDEV_WL_SWEEP = 1,
	TESTDEV_WL_RANDOM = 2,
	TESTDEV_WL_HOTCOLD = 3,
	TESTDEV_WL_ALIAS = 4, /* read-only aliases: guest/alias.c */
};

/*
 * Ground truth for one reporting interval of one writing vCPU. Pages are
 * 4 KiB. "distinct" counts pages written at least once in the interval.
 * The cumulative fields count from the start of the workload.
 */
struct testdev_report {
	struct testdev_msg_hdr hdr;
	uint32_t vcpu;
	uint32_t seq; /* interval number, from 0 */
	uint64_t tsc_start; /* guest rdtsc at interval start */
	uint64_t tsc_end; /* guest rdtsc at interval end */
	uint64_t interval_pages_written;
	uint64_t interval_distinct_pages;
	uint64_t total_pages_written;
	uint64_t generation; /* current stamp generation */
};

struct testdev_result {
	struct testdev_msg_hdr hdr;
	uint32_t status; /* 0: every stamp right */
	uint32_t reserved;
	uint64_t pages_checked;
	uint64_t pages_bad;
	uint64_t first_bad_gpa; /* valid when pages_bad != 0 */
};

enum testdev_cmd {
	TESTDEV_CMD_NONE = 0,
	TESTDEV_CMD_STOP = 1, /* finish the workload now (verify if asked) */
	TESTDEV_CMD_VERIFY = 2, /* verify all stamps now, report a RESULT */
	/*
	 * Guest started with sync=1 (host-driven passes): every writer writes
	 * one pass over `arg` percent (1-100; 0: the guest's write_percent)
	 * of its slice, sends one REPORT whose interval is exactly that pass
	 * (seq = pass number), and waits for the next CONTINUE or STOP.
	 */
	TESTDEV_CMD_CONTINUE = 3,
};

/* POLL: the guest sends it with cmd = 0; the host fills in a command. */
struct testdev_poll {
	struct testdev_msg_hdr hdr;
	uint32_t cmd;
	uint32_t reserved;
	uint64_t arg;
};

/* FILL: the host writes len_bytes of `byte` at gpa, as a device would. */
struct testdev_fill {
	struct testdev_msg_hdr hdr;
	uint64_t gpa;
	uint64_t len_bytes;
	uint32_t byte;
	uint32_t reserved;
};

#endif
