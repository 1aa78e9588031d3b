// SPDX-License-Identifier: MIT
/*
 * Dirty-rate measurement's shared part (see dirtyrate.h and common.h): the
 * pure helpers (parsers, the sample estimate) and what every mode needs
 * (waiting for the end of a window, the common part of the reply). The
 * entry point is measure.c; the log modes are log.c, sample mode sample.c.
 */
#include "dirtyrate/common.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/json/json.h"
#include "vmm/dirty/dirty.h"
#include "vmm/vm.h"

int dirtyrate_parse_mode(const char *text, enum dirtyrate_mode *mode)
{
	if (!strcmp(text, "bitmap"))
		*mode = DIRTYRATE_BITMAP;
	else if (!strcmp(text, "ring"))
		*mode = DIRTYRATE_RING;
	else if (!strcmp(text, "sample"))
		*mode = DIRTYRATE_SAMPLE;
	else
		return -EINVAL;
	return 0;
}

const char *dirtyrate_mode_name(enum dirtyrate_mode mode)
{
	switch (mode) {
	case DIRTYRATE_BITMAP:
		return "bitmap";
	case DIRTYRATE_RING:
		return "ring";
	case DIRTYRATE_SAMPLE:
		return "sample";
	}
	return "unknown";
}

/*
 * Digits, an optional fraction and a unit, by hand: strtod would also take
 * "inf", "nan", hex floats, exponents and a locale's decimal comma.
 */
int dirtyrate_parse_duration(const char *text, uint64_t *ms, char *err,
			     size_t err_len)
{
	const uint64_t max_ns = (uint64_t)DIRTYRATE_MAX_PERIOD_MS * 1000000;
	uint64_t whole = 0, frac_ns = 0, unit_ns, ns, scale = 100000000;
	const char *p = text;
	bool digits = false;

	for (; *p >= '0' && *p <= '9'; p++, digits = true) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > max_ns)
			goto range;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
			if (!scale)
				goto malformed; /* more than nine decimals */
			frac_ns += (uint64_t)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (!digits)
		goto malformed;
	if (!*p || !strcmp(p, "s"))
		unit_ns = 1000000000;
	else if (!strcmp(p, "ms"))
		unit_ns = 1000000;
	else
		goto malformed;
	/* frac_ns is the fraction in units of 1e-9: scale it to the unit. */
	if (whole > max_ns / unit_ns)
		goto range;
	ns = whole * unit_ns + frac_ns / (1000000000 / unit_ns);
	if (ns > max_ns || ns < 500000)
		goto range;
	*ms = (ns + 500000) / 1000000;
	return 0;
malformed:
	snprintf(err, err_len,
		 "duration '%s': expected a number with an optional unit, e.g. 1s, 500ms, 1.5s or 2 (seconds)",
		 text);
	return -EINVAL;
range:
	snprintf(err, err_len, "duration '%s': must be from 1ms to %us", text,
		 DIRTYRATE_MAX_PERIOD_MS / 1000);
	return -ERANGE;
}

void dirtyrate_wss_windows(uint64_t max_ms, struct dirtyrate_windows *out)
{
	static const uint64_t steps[] = { 1, 2, 5 };
	uint64_t decade = 10;

	out->nr = 0;
	for (;;) {
		for (unsigned int i = 0; i < 3; i++) {
			uint64_t w = steps[i] * decade;

			if (w > max_ms || out->nr == DIRTYRATE_MAX_WINDOWS - 1)
				goto last;
			out->ms[out->nr++] = w;
		}
		decade *= 10;
	}
last:
	if (!out->nr || out->ms[out->nr - 1] != max_ms)
		out->ms[out->nr++] = max_ms;
}

void dirtyrate_sample_estimate(uint64_t sampled, uint64_t changed,
			       uint64_t total_pages,
			       struct dirtyrate_estimate *out)
{
	const double z = 1.959963984540054; /* 97.5th percentile of N(0,1) */
	double n = (double)sampled, p, z2n, center, half;

	memset(out, 0, sizeof(*out));
	if (!sampled)
		return;
	p = (double)changed / n;
	z2n = z * z / n;
	center = (p + z2n / 2) / (1 + z2n);
	half = z / (1 + z2n) * sqrt(p * (1 - p) / n + z2n / (4 * n));
	out->pages = p * (double)total_pages;
	out->stderr_pages = sqrt(p * (1 - p) / n) * (double)total_pages;
	out->ci95_low_pages = fmax(center - half, 0) * (double)total_pages;
	out->ci95_high_pages = fmin(center + half, 1) * (double)total_pages;
}

uint64_t dirtyrate_sample_count(uint64_t ram_bytes, uint32_t pages_per_gib)
{
	uint64_t pages = ram_bytes / 4096;
	uint64_t n = ((unsigned __int128)ram_bytes * pages_per_gib +
		      (1ull << 30) - 1) >> 30;

	if (n < 1)
		n = 1;
	return n < pages ? n : pages;
}

bool dirtyrate_slot_counted(const struct mem_slot *s)
{
	/* A read-only alias shows pages of a region that a writable slot
	 * already counts; it cannot be written through anyway. */
	return !(s->flags & MEM_SLOT_READONLY);
}

bool dirtyrate_range_in_slot(const struct mem_slot *s, uint64_t gpa,
			     uint64_t bytes, uint64_t *first_page,
			     uint64_t *nr_pages)
{
	uint64_t lo = gpa > s->gpa ? gpa : s->gpa;
	uint64_t hi = gpa + bytes < s->gpa + s->size_bytes ?
			      gpa + bytes :
			      s->gpa + s->size_bytes;

	if (lo >= hi)
		return false;
	lo = (lo - s->gpa) / GUEST_PAGE_BYTES;
	hi = (hi - s->gpa + GUEST_PAGE_BYTES - 1) / GUEST_PAGE_BYTES;
	*first_page = s->region_offset / GUEST_PAGE_BYTES + lo;
	*nr_pages = hi - lo;
	return true;
}

int dirtyrate_wait_until(struct vm *vm, uint64_t deadline_ns)
{
	const uint64_t slice_ns = 20000000;

	for (;;) {
		uint64_t now = clock_now_ns(), until = deadline_ns;
		struct timespec ts;

		if (vm_get_state(vm) == VM_STOPPED)
			return -ECANCELED;
		if (now >= deadline_ns)
			return 0;
		if (deadline_ns - now > slice_ns)
			until = now + slice_ns;
		ts.tv_sec = (time_t)(until / 1000000000);
		ts.tv_nsec = (long)(until % 1000000000);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

void dirtyrate_wait_error(int ret, char *err, size_t err_len)
{
	if (ret == -ECANCELED)
		snprintf(err, err_len, "the VM stopped during the measurement");
	else
		snprintf(err, err_len, "harvesting the dirty log: %s",
			 strerror(-ret));
}

static void write_rate(struct jw *w, double pages, double secs)
{
	jw_u64(w, "dirty_pages", (uint64_t)llround(pages));
	jw_double(w, "pages_per_s", pages / secs);
	jw_double(w, "mib_per_s", dirtyrate_mib(pages) / secs);
}

static void write_slots(struct jw *w, const struct guest_mem *mem,
			const struct dirtyrate_result *res, double secs)
{
	jw_array_begin(w, "slots");
	for (unsigned int i = 0; i < mem->nr_slots; i++) {
		const struct mem_slot *s = &mem->slots[i];

		if (!dirtyrate_slot_counted(s))
			continue;
		jw_object_begin(w, NULL);
		jw_u64(w, "slot", s->id);
		jw_u64(w, "gpa", s->gpa);
		jw_u64(w, "size", s->size_bytes);
		jw_u64(w, "pages", s->size_bytes / GUEST_PAGE_BYTES);
		write_rate(w, res->slot_pages[i], secs);
		jw_object_end(w);
	}
	jw_array_end(w);
}

void dirtyrate_write_common(struct jw *w, struct vm *vm,
			    const struct dirtyrate_request *req,
			    const struct dirtyrate_result *res)
{
	const struct guest_mem *mem = vm_mem(vm);
	double secs = (double)res->elapsed_ns / 1e9;

	jw_string(w, "mode", dirtyrate_mode_name(req->mode));
	jw_string(w, "backend",
		  dirty_backend_name(dirty_tracker_backend(vm_dirty(vm))));
	jw_bool(w, "logging_before", res->logging_before);
	jw_bool(w, "logging_after", res->logging_after);
	jw_u64(w, "page_bytes", GUEST_PAGE_BYTES);
	jw_u64(w, "ram_pages", mem->ram_bytes / GUEST_PAGE_BYTES);
	jw_u64(w, "period_ms", req->wss ? req->wss_max_ms : req->period_ms);
	jw_double(w, "elapsed_ms", secs * 1e3);
	write_rate(w, res->dirty_pages, secs);
	write_slots(w, mem, res, secs);
	if (!req->range_bytes)
		return;
	jw_object_begin(w, "range");
	jw_u64(w, "gpa", req->range_gpa);
	jw_u64(w, "size", req->range_bytes);
	write_rate(w, res->range_pages, secs);
	jw_object_end(w);
}
