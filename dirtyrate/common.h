/* SPDX-License-Identifier: MIT */
/*
 * What the dirty-rate modes share (common.c): the part of the reply every
 * mode has, waiting out a window, and which slots and pages count.
 */
#ifndef KVMTRACK_DIRTYRATE_COMMON_H
#define KVMTRACK_DIRTYRATE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dirtyrate/dirtyrate.h"
#include "vmm/mem/memory.h"

/* The part of the reply every mode has. Pages are doubles because sample
 * mode's are estimates; the log modes' are exact integers. */
struct dirtyrate_result {
	uint64_t elapsed_ns;
	double dirty_pages;
	double slot_pages[MEM_MAX_SLOTS]; /* by index in guest_mem.slots */
	double range_pages;
	bool logging_before;
	bool logging_after;
};

/*
 * Sleeps until deadline_ns (CLOCK_MONOTONIC) in slices, so that a VM that
 * stops meanwhile is noticed within ~20 ms: the control thread must be
 * free again for kvmtrack to exit. 0, or -ECANCELED when the VM stopped.
 */
int dirtyrate_wait_until(struct vm *vm, uint64_t deadline_ns);
/* The message for a failed window (stop, harvest error) into err. */
void dirtyrate_wait_error(int ret, char *err, size_t err_len);

static inline double dirtyrate_mib(double pages)
{
	return pages * (double)GUEST_PAGE_BYTES / (1024.0 * 1024.0);
}

/* Writable slots only: an alias would count its region's pages twice. */
bool dirtyrate_slot_counted(const struct mem_slot *s);
/*
 * The pages of slot s that [gpa, gpa + bytes) touches, as a page range of
 * the slot's region. False when they do not meet.
 */
bool dirtyrate_range_in_slot(const struct mem_slot *s, uint64_t gpa,
			     uint64_t bytes, uint64_t *first_page,
			     uint64_t *nr_pages);

/* Writes the members every mode has into the open reply object. */
void dirtyrate_write_common(struct jw *w, struct vm *vm,
			    const struct dirtyrate_request *req,
			    const struct dirtyrate_result *res);

#endif
