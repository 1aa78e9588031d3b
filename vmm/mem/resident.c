// SPDX-License-Identifier: MIT
/*
 * Which guest pages hold data (guest_mem_next_data, memory.h). Guest RAM
 * is private anonymous memory, so the page tables say it: a page never
 * written is not mapped, or maps the shared zero page. PAGEMAP_SCAN
 * (Linux 6.7) returns whole runs in one call, about 20 us for 1 GiB;
 * older kernels (Debian 12's 6.1) get /proc/self/pagemap, 8 bytes a page,
 * about 1.5 ms for 1 GiB. mincore() is not enough: it calls a page that
 * was swapped out absent, and that page's data would be lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/mem/memory.h"

/* From <linux/fs.h> of Linux 6.7; Debian 12's headers predate it. */
struct kt_page_region {
	uint64_t start, end, categories;
};

struct kt_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask;
	uint64_t return_mask;
};

#define KT_PAGEMAP_SCAN _IOWR('f', 16, struct kt_pm_scan_arg)
#define KT_PAGE_IS_PRESENT (1ull << 3)
#define KT_PAGE_IS_SWAPPED (1ull << 4)
#define KT_PAGE_IS_PFNZERO (1ull << 5)

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_CHUNK 512

static int pagemap_fd = -1;
static bool have_scan = true;

void guest_mem_resident_use_pagemap(bool on)
{
	__atomic_store_n(&have_scan, !on, __ATOMIC_RELAXED);
}

bool guest_mem_resident_by_scan(void)
{
	return __atomic_load_n(&have_scan, __ATOMIC_RELAXED);
}
static pthread_once_t pagemap_once = PTHREAD_ONCE_INIT;

static void pagemap_open(void)
{
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
}

/* 1: a run [*first, *end) in pages from base; 0: none; <0: no scan. */
static int scan_run(const uint8_t *base, uint64_t from, uint64_t pages,
		    uint64_t *first, uint64_t *end)
{
	struct kt_page_region run;
	struct kt_pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = (uint64_t)(uintptr_t)(base + from * GUEST_PAGE_BYTES),
		.end = (uint64_t)(uintptr_t)(base + pages * GUEST_PAGE_BYTES),
		.vec = (uint64_t)(uintptr_t)&run,
		.vec_len = 1,
		/* Present or swapped, and not the zero page (never written). */
		.category_anyof_mask = KT_PAGE_IS_PRESENT | KT_PAGE_IS_SWAPPED,
		.category_inverted = KT_PAGE_IS_PFNZERO,
		.category_mask = KT_PAGE_IS_PFNZERO,
	};
	int n = ioctl(pagemap_fd, KT_PAGEMAP_SCAN, &arg);

	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	*first = (run.start - (uint64_t)(uintptr_t)base) / GUEST_PAGE_BYTES;
	*end = (run.end - (uint64_t)(uintptr_t)base) / GUEST_PAGE_BYTES;
	return 1;
}

/* The same from pagemap entries; an unreadable entry counts as data. */
static bool read_run(const uint8_t *base, uint64_t from, uint64_t pages,
		     uint64_t *first, uint64_t *end)
{
	uint64_t entries[PM_CHUNK];
	uint64_t vpn = (uint64_t)(uintptr_t)base / GUEST_PAGE_BYTES;
	bool in_run = false;

	for (uint64_t at = from; at < pages; at += PM_CHUNK) {
		uint64_t n = pages - at < PM_CHUNK ? pages - at : PM_CHUNK;
		ssize_t got = pread(pagemap_fd, entries, n * 8,
				    (off_t)((vpn + at) * 8));

		for (uint64_t i = 0; i < n; i++) {
			bool data = got != (ssize_t)(n * 8) ||
				    entries[i] & (PM_PRESENT | PM_SWAPPED);

			if (data && !in_run) {
				*first = at + i;
				in_run = true;
			} else if (!data && in_run) {
				*end = at + i;
				return true;
			}
		}
	}
	*end = pages;
	return in_run;
}

bool guest_mem_next_data(const struct mem_region *r, uint64_t from,
			 uint64_t *first, uint64_t *end)
{
	uint64_t pages = mem_region_pages(r);
	int ret;

	if (from >= pages || !r->hva)
		return false;
	pthread_once(&pagemap_once, pagemap_open);
	if (pagemap_fd < 0) {
		/* Without page tables to ask, everything may hold data. */
		*first = from;
		*end = pages;
		return true;
	}
	if (__atomic_load_n(&have_scan, __ATOMIC_RELAXED)) {
		ret = scan_run(r->hva, from, pages, first, end);
		if (ret >= 0)
			return ret == 1;
		__atomic_store_n(&have_scan, false, __ATOMIC_RELAXED);
	}
	return read_run(r->hva, from, pages, first, end);
}
