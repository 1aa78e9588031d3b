/* SPDX-License-Identifier: MIT */
/*
 * sync=1: host-driven passes. workload.c hands its three steps over to
 * these when config.sync is set.
 */
#ifndef KVMTRACK_GUEST_SYNC_H
#define KVMTRACK_GUEST_SYNC_H

#include <stdint.h>

#include "guest/lib/compiler.h"

/* CPU 0, before anyone runs: splits the working set among the writers. */
void sync_start(uint32_t nr_writers);
/* This CPU's part: slot 0 takes the host's commands and writes, the other
 * writers write the passes it releases; returns once the host said stop. */
void sync_run(uint32_t cpu, uint32_t slot);
/* CPU 0 after sync_run: waits for writers, verifies, reports, exits. */
__noreturn void sync_finish(void);

#endif
