/* SPDX-License-Identifier: MIT */
/*
 * The test device's state, shared by its MMIO side (testdev.c) and its
 * accessors and registry entry (testdev_state.c); not for use elsewhere.
 */
#ifndef KVMTRACK_TESTDEV_MODEL_H
#define KVMTRACK_TESTDEV_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/testdev.h"

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

/* Migration hooks of testdev_ops (testdev_migrate.c). */
#define TESTDEV_STATE_VERSION 1u
struct wbuf;
struct rbuf;
int testdev_save(void *state, struct wbuf *w);
int testdev_load(void *state, struct rbuf *r, uint32_t version, char *err,
		 size_t err_len);

/* Names of the error kinds, as logged and as keys of the "errors" stats. */
extern const char *const testdev_err_kind_names[TESTDEV_ERR_NR_KINDS];

#endif
