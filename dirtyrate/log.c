// SPDX-License-Identifier: MIT
/*
 * Dirty-rate measurement through the VM's dirty log (bitmap and ring
 * modes, see dirtyrate.h): one dirty_set attached for the window, synced
 * at the end of each window of the working-set curve, counted per memslot
 * and per vCPU.
 */
#include "dirtyrate/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dirtyrate/common.h"
#include "lib/clock.h"
#include "lib/json/json.h"
#include "vmm/dirty/dirty.h"
#include "vmm/vm.h"

/* Set bits among bits[first, first + n). */
static uint64_t count_bits(const uint64_t *bits, uint64_t first, uint64_t n)
{
	uint64_t c = 0, end = first + n;

	while (first < end && first % 64) {
		c += (bits[first / 64] >> (first % 64)) & 1;
		first++;
	}
	for (; first + 64 <= end; first += 64)
		c += (uint64_t)__builtin_popcountll(bits[first / 64]);
	for (; first < end; first++)
		c += (bits[first / 64] >> (first % 64)) & 1;
	return c;
}

/* Distinct dirty pages of the set inside the request's range. */
static uint64_t range_pages(const struct guest_mem *mem,
			    const struct dirty_set *set,
			    const struct dirtyrate_request *req)
{
	uint64_t n = 0, first, pages;

	for (unsigned int i = 0; i < mem->nr_slots && req->range_bytes; i++) {
		const struct mem_slot *s = &mem->slots[i];

		if (dirtyrate_slot_counted(s) &&
		    dirtyrate_range_in_slot(s, req->range_gpa,
					    req->range_bytes, &first, &pages))
			n += count_bits(set->bits[s->region - mem->regions],
					first, pages);
	}
	return n;
}

/* What a log measurement saw, taken before detaching adds more. */
struct log_snapshot {
	struct dirtyrate_result res;
	uint64_t vcpu_entries[VM_MAX_CPUS];
	unsigned int nr_vcpus;
	bool have_vcpus;
	uint64_t vmm_pages;
	struct dirtyrate_windows windows;
	uint64_t window_elapsed_ns[DIRTYRATE_MAX_WINDOWS];
	uint64_t window_pages[DIRTYRATE_MAX_WINDOWS];
	uint64_t window_range_pages[DIRTYRATE_MAX_WINDOWS];
};

static void take_snapshot(struct vm *vm, const struct dirty_set *set,
			  const struct dirtyrate_request *req,
			  struct log_snapshot *snap)
{
	const struct guest_mem *mem = vm_mem(vm);

	snap->res.dirty_pages = (double)dirty_set_count(set);
	snap->res.range_pages = (double)range_pages(mem, set, req);
	for (unsigned int i = 0; i < mem->nr_slots; i++) {
		const struct mem_slot *s = &mem->slots[i];

		snap->res.slot_pages[i] = (double)count_bits(
			set->bits[s->region - mem->regions],
			s->region_offset / GUEST_PAGE_BYTES,
			s->size_bytes / GUEST_PAGE_BYTES);
	}
	snap->nr_vcpus = vm_nr_vcpus(vm);
	memcpy(snap->vcpu_entries, set->vcpu_pages, sizeof(snap->vcpu_entries));
	snap->vmm_pages = set->vmm_pages;
}

/*
 * The window runs from the middle of the attach (logging on, or the
 * pending bits handed to the other sets) to the middle of each sync
 * (KVM's log read): the best guess at when the log was cut.
 */
static int sync_at(struct vm *vm, uint64_t t0_ns, uint64_t window_ms,
		   uint64_t *elapsed_ns)
{
	uint64_t before;
	int ret;

	ret = dirtyrate_wait_until(vm, t0_ns + window_ms * 1000000);
	if (ret)
		return ret;
	before = clock_now_ns();
	ret = dirty_sync(vm_dirty(vm), false);
	*elapsed_ns = (before + clock_now_ns()) / 2 - t0_ns;
	return ret;
}

/*
 * Attaches set so that it starts clean. An attach that finds logging off
 * harvests nothing first, so the VMM's own writes recorded since boot
 * (memory.c keeps them whether anyone logs or not: loaders, devices)
 * would land in the set with its first sync. A scratch set attached and
 * synced first takes them; set, attached while logging is on, starts
 * clean, because such an attach hands everything pending to the sets
 * already there. The scratch set is detached again at once (logging stays
 * on for set). t0 is the middle of set's attach.
 */
static int start_window(struct vm *vm, struct dirty_set *set, uint64_t *t0)
{
	struct dirty_tracker *t = vm_dirty(vm);
	struct dirty_set scratch;
	uint64_t before;
	int ret, ret2;

	ret = dirty_set_init(&scratch, vm_mem(vm));
	if (ret)
		return ret;
	ret = dirty_attach(t, &scratch);
	if (ret)
		goto free_scratch;
	ret = dirty_sync(t, false);
	before = clock_now_ns();
	ret = ret ?: dirty_attach(t, set);
	*t0 = (before + clock_now_ns()) / 2;
	ret2 = dirty_detach(t, &scratch);
	if (!ret && ret2) {
		dirty_detach(t, set);
		ret = ret2;
	}
free_scratch:
	dirty_set_free(&scratch);
	return ret;
}

static int run_windows(struct vm *vm, struct dirty_set *set,
		       const struct dirtyrate_request *req,
		       struct log_snapshot *snap, char *err, size_t err_len)
{
	struct dirty_tracker *t = vm_dirty(vm);
	uint64_t t0;
	int ret;

	if (req->wss)
		dirtyrate_wss_windows(req->wss_max_ms, &snap->windows);
	else
		snap->windows = (struct dirtyrate_windows){
			.nr = 1, .ms = { req->period_ms }
		};
	ret = start_window(vm, set, &t0);
	if (ret) {
		snprintf(err, err_len, "cannot switch dirty logging on: %s",
			 strerror(-ret));
		return ret;
	}
	for (unsigned int i = 0; i < snap->windows.nr && !ret; i++) {
		ret = sync_at(vm, t0, snap->windows.ms[i],
			      &snap->window_elapsed_ns[i]);
		snap->window_pages[i] = dirty_set_count(set);
		snap->window_range_pages[i] =
			range_pages(vm_mem(vm), set, req);
	}
	if (!ret) {
		snap->res.elapsed_ns =
			snap->window_elapsed_ns[snap->windows.nr - 1];
		take_snapshot(vm, set, req, snap);
	} else {
		dirtyrate_wait_error(ret, err, err_len);
	}
	/* Always: this turns logging off again if we turned it on. */
	ret = dirty_detach(t, set) ?: ret;
	if (ret && !err[0])
		snprintf(err, err_len, "cannot switch dirty logging off: %s",
			 strerror(-ret));
	return ret;
}

static void write_vcpus(struct jw *w, const struct log_snapshot *snap)
{
	double secs = (double)snap->res.elapsed_ns / 1e9;
	uint64_t sum = 0;

	for (unsigned int i = 0; i < snap->nr_vcpus; i++)
		sum += snap->vcpu_entries[i];
	jw_u64(w, "ring_entries", sum);
	jw_array_begin(w, "vcpus");
	for (unsigned int i = 0; i < snap->nr_vcpus; i++) {
		double n = (double)snap->vcpu_entries[i];

		jw_object_begin(w, NULL);
		jw_u64(w, "vcpu", i);
		jw_u64(w, "dirty_pages", snap->vcpu_entries[i]);
		jw_double(w, "share", sum ? n / (double)sum : 0);
		jw_double(w, "pages_per_s", n / secs);
		jw_double(w, "mib_per_s", dirtyrate_mib(n) / secs);
		jw_object_end(w);
	}
	jw_array_end(w);
}

static void write_wss(struct jw *w, const struct log_snapshot *snap,
		      bool range)
{
	jw_array_begin(w, "wss");
	for (unsigned int i = 0; i < snap->windows.nr; i++) {
		double secs = (double)snap->window_elapsed_ns[i] / 1e9;
		double n = (double)snap->window_pages[i];

		jw_object_begin(w, NULL);
		jw_u64(w, "window_ms", snap->windows.ms[i]);
		jw_double(w, "elapsed_ms", secs * 1e3);
		jw_u64(w, "dirty_pages", snap->window_pages[i]);
		jw_double(w, "dirty_mib", dirtyrate_mib(n));
		/* What a link must carry to keep up over such a window. */
		jw_double(w, "mib_per_s", dirtyrate_mib(n) / secs);
		if (range)
			jw_u64(w, "range_pages", snap->window_range_pages[i]);
		jw_object_end(w);
	}
	jw_array_end(w);
}

static int check_log_request(struct vm *vm, const struct dirtyrate_request *req,
			     char *err, size_t err_len)
{
	enum dirty_backend backend = dirty_tracker_backend(vm_dirty(vm));

	if (backend == DIRTY_BACKEND_RING)
		return 0;
	if (req->mode == DIRTYRATE_RING || req->per_vcpu) {
		snprintf(err, err_len,
			 "%s the dirty ring, but this VM logs with the %s backend: start it with 'kvmtrack run --dirty-log ring'",
			 req->mode == DIRTYRATE_RING ? "mode 'ring' needs" :
						       "per-vCPU counts need",
			 dirty_backend_name(backend));
		return -EOPNOTSUPP;
	}
	return 0;
}

int dirtyrate_measure_log(struct vm *vm, const struct dirtyrate_request *req,
			  struct jw *w, char *err, size_t err_len)
{
	struct dirty_tracker *t = vm_dirty(vm);
	struct log_snapshot *snap;
	struct dirty_set set;
	bool logging_before;
	int ret;

	ret = check_log_request(vm, req, err, err_len);
	if (ret)
		return ret;
	snap = calloc(1, sizeof(*snap));
	if (!snap || dirty_set_init(&set, vm_mem(vm))) {
		free(snap);
		snprintf(err, err_len, "out of memory for the dirty bitmaps");
		return -ENOMEM;
	}
	logging_before = dirty_tracker_logging(t);
	ret = run_windows(vm, &set, req, snap, err, err_len);
	dirty_set_free(&set);
	if (!ret) {
		snap->res.logging_before = logging_before;
		snap->res.logging_after = dirty_tracker_logging(t);
		jw_object_begin(w, NULL);
		dirtyrate_write_common(w, vm, req, &snap->res);
		jw_u64(w, "vmm_pages", snap->vmm_pages);
		if (req->mode == DIRTYRATE_RING || req->per_vcpu)
			write_vcpus(w, snap);
		if (req->wss)
			write_wss(w, snap, req->range_bytes != 0);
		jw_object_end(w);
	}
	free(snap);
	return ret;
}

