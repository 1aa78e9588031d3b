/* SPDX-License-Identifier: MIT */
/*
 * The test device's model: what the bundled guest told kvmtrack (HELLO,
 * RESULT, each vCPU's REPORTs and their totals), STATUS, the error counts
 * and the commands waiting for the guest's POLL, with the operations the
 * rest of kvmtrack uses on them. No VM, no bus: devices/testdev.c handles
 * the guest's messages and puts the device on the MMIO bus, and
 * devices/testdev_save.c moves the model across a migration. Every
 * operation takes the lock and may be called from any thread; code that
 * reads the struct's fields itself holds the lock (or owns the device).
 */
#ifndef KVMTRACK_TESTDEV_MODEL_H
#define KVMTRACK_TESTDEV_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/abi/testdev.h"
#include "vmm/mem/limits.h"

struct guest_mem;

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

struct testdev_vcpu {
	struct testdev_report ring[TESTDEV_REPORT_RING];
	unsigned int next; /* ring slot the next report goes to */
	unsigned int count; /* valid slots, up to TESTDEV_REPORT_RING */
	struct testdev_totals totals;
};

/* The newest report in v's ring; only meaningful when v->count != 0. */
static inline const struct testdev_report *
testdev_latest_of(const struct testdev_vcpu *v)
{
	return &v->ring[(v->next + TESTDEV_REPORT_RING - 1) %
			TESTDEV_REPORT_RING];
}

_Static_assert(TESTDEV_MAX_VCPUS <= 32, "testdev vcpus_used is a u32");

struct testdev_cmd_slot {
	uint32_t cmd;
	uint64_t arg;
};

struct testdev {
	pthread_mutex_t lock; /* vCPU threads and readers share everything */
	pthread_cond_t reported; /* broadcast on every REPORT and HELLO */
	struct guest_mem *mem;
	int32_t status;
	uint64_t messages; /* doorbells handled, good or bad */
	bool have_hello;
	struct testdev_hello hello;
	bool have_result;
	struct testdev_result result;
	struct testdev_vcpu *vcpus; /* TESTDEV_MAX_VCPUS */
	/*
	 * Bit i: vcpus[i] was written (a REPORT, or a load). The array is
	 * 16 KiB per vCPU, mostly never touched: a migration's save and load
	 * visit only these, not 64 fresh pages whose first touch would cost
	 * ~150 us of the downtime on the development hosts.
	 */
	uint32_t vcpus_used;
	struct testdev_totals totals;
	struct testdev_cmd_slot cmds[TESTDEV_CMD_QUEUE];
	unsigned int cmd_head;
	unsigned int cmd_count;
	uint64_t fill_bytes;
	uint64_t errors[TESTDEV_ERR_NR_KINDS];
	bool logged[TESTDEV_ERR_NR_KINDS];
};

/* Creates a device that reads and writes messages in mem. 0 or -ENOMEM. */
int testdev_create(struct guest_mem *mem, struct testdev **out);
void testdev_destroy(struct testdev *td);

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
