/* SPDX-License-Identifier: MIT */
/*
 * What entry.S defines for C, and the one function it expects the program
 * linked with the runtime to define: user_main, where every CPU starts at
 * CPL3 (as crt0 expects main).
 */
#ifndef KVMTRACK_GUEST_LIB_ENTRY_H
#define KVMTRACK_GUEST_LIB_ENTRY_H

#include <stdint.h>

#include "guest/lib/compiler.h"

extern char exc_stubs[];
extern __noreturn void halt_stub(void);

/* Defined by the program, not the runtime: entry.S irets to it on every
 * CPU, once cpu_setup0 is done, with the CPU's index. It must not return
 * (a ud2 follows the call). */
void user_main(uint32_t cpu);

#endif
