/* SPDX-License-Identifier: MIT */
/*
 * The machine's state as a stream of versioned sections, for migration and
 * snapshots. Guest memory is not part of it (the caller moves RAM).
 *
 * Each section is a name (wbuf_put_str), a u32 format version and a
 * u32-length block; all values are little-endian, field by field. In order:
 *   machine   vCPU count, RAM size
 *   vcpu      one per vCPU: registers, sregs, FPU/XSAVE, XCRs, debug
 *             registers, LAPIC, MSRs (IA32_TSC first), events, MP state
 *   irqchip   PIC master, PIC slave, IOAPIC
 *   pit       the three PIT channels
 *   clock     the KVM clock
 *   device:N  one per device with migration hooks (devices/registry.h),
 *             in the device's own version
 *   end       empty; the stream may go on after it with other data
 */
#ifndef KVMTRACK_VM_STATE_H
#define KVMTRACK_VM_STATE_H

#include <stddef.h>

#include "lib/wire.h"

struct vm;

/* Section names (each shorter than VM_STATE_NAME_MAX bytes) and the
 * format version this build writes and reads. */
#define VM_STATE_NAME_MAX 64
#define VM_STATE_SEC_MACHINE "machine"
#define VM_STATE_SEC_VCPU "vcpu"
#define VM_STATE_SEC_IRQCHIP "irqchip"
#define VM_STATE_SEC_PIT "pit"
#define VM_STATE_SEC_CLOCK "clock"
#define VM_STATE_SEC_END "end"
#define VM_STATE_DEVICE_PREFIX "device:"
#define VM_STATE_VERSION 1u

/*
 * Appends the whole machine state as versioned sections: every vCPU,
 * irqchip, PIT, KVM clock, devices. The VM must be paused (vm_pause) or not
 * yet started. Returns 0, or -errno having logged why (-EBUSY while the VM
 * runs, -ENOMEM from w).
 */
int vm_state_save(struct vm *vm, struct wbuf *w);

/*
 * Finds what this host can save (MSR list, capabilities) ahead of time,
 * so that vm_state_save() during a migration's downtime does not. Once per
 * process. Call it before the vCPUs run: the probe is ~40 ioctls on vCPU
 * 0, and each waits for a running vCPU to leave the guest (20 ms in all
 * for a guest that seldom exits).
 */
int vm_state_prepare(struct vm *vm);

/*
 * Loads it into a freshly created VM with the same vCPU count and memory
 * layout that has not run yet (vm_create, no vm_boot), in the order the KVM
 * ABI needs. Guest memory must already hold the saved RAM: KVM reads page
 * tables (PAE PDPTEs) while loading the registers. Validates every length,
 * count and version before loading anything; on error returns -errno
 * (-EBADMSG: truncated or bytes left over; -EINVAL: unknown section or
 * device, wrong version, count mismatch, a value KVM or a device refuses)
 * with a message naming the section and field in err, and the VM must be
 * destroyed. On success r is positioned after the "end" section. A VM
 * whose vCPU threads were prestarted is expected to resume soon after
 * (vm_expect_resume()).
 */
int vm_state_load(struct vm *vm, struct rbuf *r, char *err, size_t err_len);

#endif
