/* SPDX-License-Identifier: MIT */
/*
 * Messages to kvmtrack's test device (guest/abi/testdev.h). Without one,
 * or before testdev_probe found it, every call does nothing (a poll
 * answers TESTDEV_CMD_NONE).
 */
#ifndef KVMTRACK_GUEST_LIB_TESTDEV_H
#define KVMTRACK_GUEST_LIB_TESTDEV_H

#include <stdbool.h>
#include <stdint.h>

struct testdev_report;

/* Looks for the device at machine.testdev_gpa by its ID register and says
 * on serial what it found; true if it is there. */
bool testdev_probe(void);
void testdev_hello(uint32_t nr_cpus, uint32_t workload, uint64_t wss_bytes,
		   uint64_t wss_base_gpa);
void testdev_report(uint32_t cpu, const struct testdev_report *r);
void testdev_result(uint32_t cpu, uint32_t status, uint64_t checked,
		    uint64_t bad, uint64_t first_bad_gpa);
/* Returns the host's command (TESTDEV_CMD_*), NONE without a testdev. */
uint32_t testdev_poll(uint32_t cpu);
/* Same, with the command's argument in *arg (0 when none). */
uint32_t testdev_poll_arg(uint32_t cpu, uint64_t *arg);

#endif
