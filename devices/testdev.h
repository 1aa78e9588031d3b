/* SPDX-License-Identifier: MIT */
/*
 * The test device (protocol in guest/abi/testdev.h): kvmtrack's side of
 * the conversation with the bundled guest. The registry entry testdev_ops
 * puts it on the MMIO bus; the functions here let the rest of kvmtrack (and
 * the unit tests) read what the guest reported and queue commands for it.
 * All of them take the device lock and may be called from any thread.
 */
#ifndef KVMTRACK_TESTDEV_H
#define KVMTRACK_TESTDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/abi/testdev.h"
#include "vmm/mem/limits.h"

struct guest_mem;
struct testdev;
struct vm;

#define TESTDEV_MAX_VCPUS VM_MAX_CPUS
#define TESTDEV_REPORT_RING 256 /* reports kept per vCPU */
#define TESTDEV_CMD_QUEUE 16 /* commands waiting for a POLL */

/* What went wrong with a message or an access; each kind is logged once. */
enum testdev_err_kind {
	TESTDEV_ERR_ALIGN, /* message GPA not 64-byte aligned: -EINVAL */
	TESTDEV_ERR_NOT_RAM, /* message not inside one RAM region: -EFAULT */
	TESTDEV_ERR_LENGTH, /* len_bytes out of range for its type: -EMSGSIZE */
	TESTDEV_ERR_TYPE, /* unknown message type: -ENOMSG */
	TESTDEV_ERR_VCPU, /* REPORT for a vCPU index >= MAX_VCPUS: -ERANGE */
	TESTDEV_ERR_FILL, /* FILL target not RAM or bad byte: -EFAULT/-EINVAL */
	TESTDEV_ERR_ACCESS, /* unknown register or wrong access size */
	TESTDEV_ERR_NR_KINDS,
};

/* Sums over every REPORT received (one vCPU, or all of them). */
struct testdev_totals {
	uint64_t reports;
	uint64_t interval_pages_written;
	uint64_t interval_distinct_pages;
};

/* Creates a device that reads and writes messages in mem. 0 or -ENOMEM. */
int testdev_create(struct guest_mem *mem, struct testdev **out);
void testdev_destroy(struct testdev *td);
/* The test device of a VM built with devices/registry.h, or NULL. */
struct testdev *testdev_of(struct vm *vm);

/*
 * The MMIO handler (a bus_access_fn; opaque is the struct testdev). Always
 * returns 0: a misbehaving guest gets -errno in STATUS and a log line, it
 * never stops the VM.
 */
int testdev_mmio_access(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write);

/* Size of the fixed struct for a message type, 0 if the type is unknown. */
size_t testdev_msg_size(uint32_t type);

/*
 * Checks a message header read from gpa before the body is read: alignment,
 * sizeof(hdr) <= len_bytes <= TESTDEV_MSG_MAX_BYTES, a known type and
 * len_bytes >= that type's struct. Pure (RAM is checked by the caller).
 * Returns 0 or -errno as listed in enum testdev_err_kind, and the kind.
 */
int testdev_msg_check(uint64_t gpa, const struct testdev_msg_hdr *hdr,
		      enum testdev_err_kind *kind);

/* The latest REPORT of vcpu: 0, -ENOENT if none yet, -ERANGE if vcpu is
 * out of range. */
int testdev_latest_report(struct testdev *td, uint32_t vcpu,
			  struct testdev_report *out);

/*
 * Copies up to max of the most recent reports of vcpu (at most
 * TESTDEV_REPORT_RING are kept), oldest first. Returns how many.
 */
unsigned int testdev_report_history(struct testdev *td, uint32_t vcpu,
				    struct testdev_report *out,
				    unsigned int max);

/* Totals of one vCPU's reports, or of all when vcpu == UINT32_MAX. */
int testdev_totals(struct testdev *td, uint32_t vcpu,
		   struct testdev_totals *out);

/* The guest's HELLO / RESULT: 0, or -ENOENT when it has not sent one. */
int testdev_hello(struct testdev *td, struct testdev_hello *out);
int testdev_result(struct testdev *td, struct testdev_result *out);

/*
 * Queues a command for the guest's next POLL (FIFO order). Returns 0,
 * -EINVAL for an unknown command, -ENOSPC when TESTDEV_CMD_QUEUE wait.
 */
int testdev_queue_cmd(struct testdev *td, uint32_t cmd, uint64_t arg);

/*
 * Wait until the total number of REPORTs received reaches min_reports, or
 * until the guest's HELLO has arrived. 0, or -ETIMEDOUT after timeout_ms.
 * For callers that must react within microseconds of a guest message
 * (benchmarks timing a guest pass), without polling.
 */
int testdev_wait_reports(struct testdev *td, uint64_t min_reports,
			 unsigned int timeout_ms);
int testdev_wait_hello(struct testdev *td, unsigned int timeout_ms);

/* STATUS as the guest reads it: 0 or -errno of the last message. */
int32_t testdev_status(struct testdev *td);
uint64_t testdev_error_count(struct testdev *td, enum testdev_err_kind kind);

#endif
