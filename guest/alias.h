/* SPDX-License-Identifier: MIT */
/* workload=alias: checks the read-only windows described in the device tree. */
#ifndef KVMTRACK_GUEST_ALIAS_H
#define KVMTRACK_GUEST_ALIAS_H

#include "guest/lib/compiler.h"

/* Runs every check on the boot CPU alone and ends the run with its result. */
__noreturn void alias_workload(void);

#endif
