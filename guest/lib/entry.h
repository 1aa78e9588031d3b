/* SPDX-License-Identifier: MIT */
/*
 * The one function entry.S expects the program linked with the runtime to
 * define: user_main, where every CPU starts at CPL3 (as crt0 expects
 * main). entry.S sits on top of the runtime: it calls down into cpu.c and
 * stores into machine.c, and no C file names anything of entry.S's.
 */
#ifndef KVMTRACK_GUEST_LIB_ENTRY_H
#define KVMTRACK_GUEST_LIB_ENTRY_H

#include <stdint.h>

/* Defined by the program, not the runtime: entry.S irets to it on every
 * CPU, once cpu_setup0 is done, with the CPU's index. It must not return
 * (a ud2 follows the call). */
void user_main(uint32_t cpu);

#endif
