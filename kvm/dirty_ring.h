/* SPDX-License-Identifier: MIT */
/*
 * One vCPU's dirty ring (KVM_CAP_DIRTY_LOG_RING), and the handshake with
 * KVM over it, written once: an entry is ours once KVM has set its DIRTY
 * flag (read with acquire, so its slot and offset are complete), and goes
 * back to KVM when we set RESET (with release); kvm_reset_dirty_rings()
 * then re-protects the pages of every entry handed back.
 */
#ifndef KVMTRACK_KVM_DIRTY_RING_H
#define KVMTRACK_KVM_DIRTY_RING_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

struct kvm_vcpu;

struct kvm_dirty_ring {
	struct kvm_dirty_gfn *gfns; /* mmap'ed from the vCPU fd */
	uint32_t entries; /* a power of two */
	uint32_t fetch; /* next entry to look at (free-running) */
};

/* Maps vcpu's ring of `entries` entries (KVM_ENABLE_CAP gave the size). */
int kvm_dirty_ring_map(struct kvm_vcpu *vcpu, uint32_t entries,
		       struct kvm_dirty_ring *r);
/* Unmaps it; a ring never mapped (gfns NULL) is a no-op. */
void kvm_dirty_ring_unmap(struct kvm_dirty_ring *r);

/*
 * Takes the next dirty entry: its memslot id (KVM's, with the address
 * space in the high 16 bits) and page offset in the slot, and hands the
 * entry back to KVM. False when the ring holds no more. Inline, since it
 * runs once per dirty page on the harvest path.
 */
static inline bool kvm_dirty_ring_next(struct kvm_dirty_ring *r,
				       uint32_t *slot, uint64_t *offset)
{
	struct kvm_dirty_gfn *e = &r->gfns[r->fetch & (r->entries - 1)];

	if (!(__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) &
	      KVM_DIRTY_GFN_F_DIRTY))
		return false;
	*slot = e->slot;
	*offset = e->offset;
	__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
	r->fetch++;
	return true;
}

#endif
