/* SPDX-License-Identifier: MIT */
/* The page-writing workloads (sweep, random, hotcold, idle) on every CPU. */
#ifndef KVMTRACK_GUEST_WORKLOAD_H
#define KVMTRACK_GUEST_WORKLOAD_H

#include <stdint.h>

#include "guest/lib/compiler.h"

/* Runs this CPU's part of the workload until stopped; slot is the order in
 * which the CPU came up (0: boot CPU), slots below the writer count write. */
void workload_run(uint32_t cpu, uint32_t slot);
/* Called on CPU 0 once config and layout are done: releases everyone. */
void workload_start(uint32_t nr_cpus, uint32_t writers);
/* CPU 0 after workload_run: waits for writers, verifies, reports, exits. */
__noreturn void workload_finish(void);

#endif
