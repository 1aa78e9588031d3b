/* SPDX-License-Identifier: MIT */
/*
 * The ring harvest (ring.c), for the ring backend: one KVM dirty ring per
 * vCPU (kvm/dirty_ring.h), and the reaper thread that empties them so
 * that vCPUs rarely fill one. Its state is its own; it shares the
 * tracker's lock, which guards the rings and the sink the pages go to
 * (sink.h), and reads the tracker's logging flag under it.
 */
#ifndef KVMTRACK_DIRTY_RING_H
#define KVMTRACK_DIRTY_RING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct dirty_rings;
struct dirty_sink;
struct guest_mem;
struct kvm_vcpu;

/*
 * For the VM on vm_fd, whose slots are mem's. lock, logging and sink are
 * the tracker's and outlive the rings: the reaper harvests into sink
 * under lock while *logging is set. NULL when out of memory.
 */
struct dirty_rings *dirty_rings_create(int vm_fd, const struct guest_mem *mem,
				       pthread_mutex_t *lock,
				       const bool *logging,
				       const struct dirty_sink *sink);
/* Unmaps the rings and frees r (its reaper stopped); NULL is a no-op. */
void dirty_rings_destroy(struct dirty_rings *r);
/* Maps vCPU `index`'s ring of `entries` entries. */
int dirty_rings_add_vcpu(struct dirty_rings *r, unsigned int index,
			 struct kvm_vcpu *vcpu, uint32_t entries);
/* Harvests every ring into the sink and resets them. Locked. */
int dirty_rings_harvest(struct dirty_rings *r);
/* Starts the reaper if it is not running. Locked. */
int dirty_rings_reaper_start(struct dirty_rings *r);
/* Stops the reaper unless logging is on. Not locked: it joins it. */
void dirty_rings_reaper_stop(struct dirty_rings *r);

#endif
