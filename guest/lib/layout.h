/* SPDX-License-Identifier: MIT */
/*
 * The guest's fixed per-CPU layout, shared by entry.S and the C runtime:
 * how many CPUs the static data covers, their stacks, the GDT's selectors
 * and the software vectors. Only #defines: entry.S includes it.
 */
#ifndef KVMTRACK_GUEST_LIB_LAYOUT_H
#define KVMTRACK_GUEST_LIB_LAYOUT_H

#define MAX_CPUS 16
/* Per-CPU stacks: CPL0 (exceptions, TSS.rsp0) and CPL3 (everything else). */
#define KSTACK_SHIFT 13
#define USTACK_BYTES 16384

/* Segment selectors: the GDT (cpu.c) is indexed by them. */
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_DS (0x18 | 3)
#define USER_CS (0x20 | 3)
#define TSS_SEL(cpu) (0x28 + 16 * (cpu))

/* Software vectors with DPL3 gates: the guest's "system calls". */
#define VEC_HALT 0x80 /* cli; hlt forever (no debug-exit device) */

#endif
