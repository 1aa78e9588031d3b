/* SPDX-License-Identifier: MIT */
/*
 * Where a harvest puts the dirty pages it finds: into every dirty_set
 * attached to the tracker (dirty.h). The tracker owns the list and passes
 * its sink down to the bitmap harvest (bitmap.c) and the ring harvest
 * (ring.c). Inline, since the ring reports page by page: no indirect call
 * on the hot path. Callers hold the tracker's lock.
 */
#ifndef KVMTRACK_DIRTY_SINK_H
#define KVMTRACK_DIRTY_SINK_H

#include <stdint.h>

#include "vmm/dirty/dirty.h"

struct dirty_sink {
	struct dirty_set *sets; /* attached consumers */
};

/* ORs one 64-page word of a region's dirty bits into every set. */
static inline void dirty_sink_word(const struct dirty_sink *k,
				   unsigned int region, uint64_t word,
				   uint64_t bits)
{
	for (struct dirty_set *s = k->sets; s; s = s->next)
		s->bits[region][word] |= bits;
}

/* Counts n ring entries harvested from vCPU `vcpu` in every set. */
static inline void dirty_sink_vcpu_pages(const struct dirty_sink *k,
					 unsigned int vcpu, uint64_t n)
{
	for (struct dirty_set *s = k->sets; n && s; s = s->next)
		s->vcpu_pages[vcpu] += n;
}

/* Counts n pages written by the VMM itself in every set. */
static inline void dirty_sink_vmm_pages(const struct dirty_sink *k,
					uint64_t n)
{
	for (struct dirty_set *s = k->sets; s; s = s->next)
		s->vmm_pages += n;
}

#endif
