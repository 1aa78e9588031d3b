/* SPDX-License-Identifier: MIT */
/* The end of a run, and the statuses it reports. */
#ifndef KVMTRACK_GUEST_LIB_EXIT_H
#define KVMTRACK_GUEST_LIB_EXIT_H

#include <stdint.h>

#include "guest/lib/compiler.h"

/* Exit statuses written to the debug-exit port. */
#define STATUS_OK 0
#define STATUS_VERIFY_FAILED 1
#define STATUS_EXCEPTION 0x7e

/* Ends the VM with status: debug-exit port if any, else halt. */
__noreturn void guest_exit(uint32_t status);
/* Traps to CPL0 via VEC_HALT and never comes back. On the build machines
 * a CPL3 `int n` arrives as #UD instead; the #UD handler (cpu.c)
 * recognises it by its address, sys_halt_insn. */
__noreturn void sys_halt(void);
extern char sys_halt_insn[];

#endif
