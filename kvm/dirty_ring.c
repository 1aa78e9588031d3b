// SPDX-License-Identifier: MIT
/* Mapping a vCPU's dirty ring (see dirty_ring.h). */
#include "kvm/dirty_ring.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "lib/log.h"

int kvm_dirty_ring_map(struct kvm_vcpu *vcpu, uint32_t entries,
		       struct kvm_dirty_ring *r)
{
	long page = sysconf(_SC_PAGESIZE);
	void *ring = mmap(NULL, entries * sizeof(struct kvm_dirty_gfn),
			  PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd,
			  KVM_DIRTY_LOG_PAGE_OFFSET * page);

	if (ring == MAP_FAILED) {
		int ret = -errno;

		log_err("kvm: mmap dirty ring of vcpu %u (%u entries): %s",
			vcpu->id, entries, strerror(-ret));
		return ret;
	}
	*r = (struct kvm_dirty_ring){ .gfns = ring, .entries = entries };
	return 0;
}

void kvm_dirty_ring_unmap(struct kvm_dirty_ring *r)
{
	if (r->gfns)
		munmap(r->gfns, r->entries * sizeof(*r->gfns));
	r->gfns = NULL;
}
