/* SPDX-License-Identifier: MIT */
/*
 * pvpanic on PCI (QEMU's device 1b36:0011, Linux's pvpanic-pci driver):
 * the guest kernel writes "panicked" to a register in BAR 0 from its panic
 * path, and kvmtrack ends with status 4 (VM_STOP_GUEST_PANIC) instead of
 * waiting on a dead guest or taking its reboot for a clean end. The host
 * bridge (pci_host.c) puts the function on its bus.
 */
#ifndef KVMTRACK_PVPANIC_H
#define KVMTRACK_PVPANIC_H

#include <stdint.h>

struct vm;
struct jw;
struct pci_function;
struct pvpanic;

/* Where BAR 0 is, as firmware would have placed it: in the 32-bit hole,
 * below the IOAPIC (docs/machine.md). */
#define PVPANIC_BAR_GPA 0xfebff000u

/* Creates the device and claims its BAR on vm's bus; *fn is its
 * configuration space, for the host bridge. 0 or -errno. */
int pvpanic_create(struct vm *vm, struct pvpanic **out,
		   struct pci_function **fn);
void pvpanic_destroy(struct pvpanic *p);
/* "pvpanic": {"panicked": n, "crash_loaded": n} */
void pvpanic_stats(struct pvpanic *p, struct jw *w);

#endif
