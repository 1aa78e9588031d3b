// SPDX-License-Identifier: MIT
/*
 * workload=alias: checks the read-only windows kvmtrack describes in the
 * device tree (/memory-aliases/alias@GPA, /shared-files/file@GPA).
 *
 * For each alias: its bytes equal the original's; a write through the
 * original shows through the alias at once; a write through the alias
 * changes nothing (kvmtrack drops it); read bandwidth through the alias
 * and through the original, timed with rdtsc. For each shared file: its
 * FNV-1a digest (the host compares it with the file's), the zero tail of
 * its last page, and a dropped write. With alias_loop=1 the reads are
 * checked again every 100 ms until `duration`, and from 1.5 s on also the
 * alias at alias_probe=GPA (one the host adds at runtime, of the same
 * range as the first alias). Exit status 0 only if every check passed.
 * Windows above 4 GiB are outside the guest's identity map: skipped.
 */
#include "guest/alias.h"

#include "guest/config.h"
#include "guest/lib/compiler.h"
#include "guest/lib/exit.h"
#include "guest/lib/fdt.h"
#include "guest/lib/machine.h"
#include "guest/lib/printf.h"
#include "guest/lib/sizes.h"
#include "guest/lib/string.h"
#include "guest/lib/tsc.h"
#include "guest/lib/x86.h"

#define MAX_WINDOWS 16
#define BW_BYTES (4ul << 20)
#define BW_REPS 4
#define LOOP_MS 100
#define PROBE_AFTER_MS 1500
#define FLIP 0x5a5aa5a5c3c33c3cull

struct window {
	uint64_t gpa;
	uint64_t bytes;
	uint64_t src_gpa; /* alias */
	bool file;
	const char *name; /* file */
	uint64_t file_bytes;
};

static struct window win[MAX_WINDOWS];
static uint32_t nr_win;
static uint64_t checks, failures;

static void check(bool ok, const char *what, uint64_t gpa)
{
	checks++;
	if (ok)
		return;
	failures++;
	printf("kvmtrack-guest: alias check FAILED: %s at %#lx\n", what, gpa);
}

static void find_windows(const char *compat, bool file)
{
	const void *fdt = machine.fdt;
	int node = -1;
	uint32_t len;

	while (nr_win < MAX_WINDOWS &&
	       (node = fdt_node_compatible(fdt, node, compat)) >= 0) {
		const uint8_t *reg = fdt_getprop(fdt, node, "reg", &len);
		const void *p;
		struct window *w = &win[nr_win];

		if (!reg || len < 16)
			continue;
		*w = (struct window){ .gpa = fdt_be64(reg),
				      .bytes = fdt_be64(reg + 8),
				      .file = file };
		p = fdt_getprop(fdt, node, file ? "kvmtrack,file-bytes"
						: "kvmtrack,src-gpa", &len);
		if (p && len >= 8) {
			if (file)
				w->file_bytes = fdt_be64(p);
			else
				w->src_gpa = fdt_be64(p);
		}
		w->name = fdt_getprop(fdt, node, "kvmtrack,name", &len);
		nr_win++;
	}
}

static bool reachable(uint64_t gpa, uint64_t bytes)
{
	return gpa < SZ_4G && bytes <= SZ_4G - gpa;
}

/* Is gpa inside a window (so not writable through the identity map)? */
static bool in_window(uint64_t gpa)
{
	for (uint32_t i = 0; i < nr_win; i++)
		if (gpa >= win[i].gpa && gpa - win[i].gpa < win[i].bytes)
			return true;
	return false;
}

static uint64_t sum_words(uint64_t gpa, uint64_t bytes)
{
	const volatile uint64_t *p = (const volatile uint64_t *)(uintptr_t)gpa;
	uint64_t s = 0;

	for (uint64_t i = 0; i < bytes / 8; i += 4)
		s += p[i] + p[i + 1] + p[i + 2] + p[i + 3];
	return s;
}

static uint64_t mb_per_s(uint64_t bytes, uint64_t ticks)
{
	return ticks ? bytes * machine.tsc_khz / ticks / 1000 : 0;
}

/* Best of BW_REPS reads of the same bytes, alias and original in turn. */
static void bandwidth(const struct window *w)
{
	uint64_t n = MIN(w->bytes, BW_BYTES), best_a = ~0ull, best_o = ~0ull;
	uint64_t t0, t1, t2;

	/* First touch maps the pages. The sums are not compared: the
	 * original may be live memory (this guest's own data). */
	sum_words(w->gpa, n);
	sum_words(w->src_gpa, n);
	for (int r = 0; r < BW_REPS; r++) {
		t0 = rdtsc();
		sum_words(w->gpa, n);
		t1 = rdtsc();
		sum_words(w->src_gpa, n);
		t2 = rdtsc();
		best_a = MIN(best_a, t1 - t0);
		best_o = MIN(best_o, t2 - t1);
	}
	printf("kvmtrack-guest: alias %#lx read bandwidth: alias %lu MB/s, original %lu MB/s (%lu KiB, best of %d)\n",
	       w->gpa, mb_per_s(n, best_a), mb_per_s(n, best_o), n >> 10,
	       BW_REPS);
}

/* A write through the window must be dropped: memory stays as it was. */
static void write_dropped(const struct window *w, uint64_t orig_gpa)
{
	volatile uint64_t *a = (volatile uint64_t *)(uintptr_t)w->gpa;
	volatile uint64_t *o = (volatile uint64_t *)(uintptr_t)orig_gpa;
	uint64_t old = *a;

	*a = ~old; /* an MMIO exit: kvmtrack drops it */
	check(*a == old, "write through a read-only window changed it", w->gpa);
	check(*o == old, "write through a read-only window reached memory",
	      orig_gpa);
}

static void check_alias(const struct window *w)
{
	volatile uint64_t *o = (volatile uint64_t *)(uintptr_t)w->src_gpa;
	volatile uint64_t *a = (volatile uint64_t *)(uintptr_t)w->gpa;
	uint64_t old;

	if (!reachable(w->gpa, w->bytes) || !reachable(w->src_gpa, w->bytes)) {
		printf("kvmtrack-guest: alias %#lx skipped: above 4 GiB\n",
		       w->gpa);
		return;
	}
	check(!memcmp((const void *)(uintptr_t)w->gpa,
		      (const void *)(uintptr_t)w->src_gpa, w->bytes),
	      "alias differs from its original", w->gpa);
	/* Through the original when it is RAM (not itself a window). */
	if (!in_window(w->src_gpa)) {
		old = *o;
		*o = old ^ FLIP;
		check(*a == (old ^ FLIP),
		      "write through the original not seen in the alias",
		      w->gpa);
		*o = old;
	}
	write_dropped(w, w->src_gpa);
	bandwidth(w);
	printf("kvmtrack-guest: alias %#lx = %#lx + %#lx checked\n", w->gpa,
	       w->src_gpa, w->bytes);
}

static void check_file(const struct window *w)
{
	const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)w->gpa;
	uint64_t h = 0xcbf29ce484222325ull;
	bool tail_zero = true;

	if (!reachable(w->gpa, w->bytes) || w->file_bytes > w->bytes) {
		printf("kvmtrack-guest: share %#lx skipped\n", w->gpa);
		return;
	}
	for (uint64_t i = 0; i < w->file_bytes; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	for (uint64_t i = w->file_bytes; i < w->bytes; i++)
		tail_zero &= p[i] == 0;
	check(tail_zero, "shared file's last page not zero past its end",
	      w->gpa);
	write_dropped(w, w->gpa);
	printf("kvmtrack-guest: share %s at %#lx bytes %lu fnv1a %#018lx\n",
	       w->name ? w->name : "?", w->gpa, w->file_bytes, h);
}

/* alias_loop=1: reads again until the duration ends. */
static void loop(void)
{
	uint64_t start = rdtsc(), next = start, pass = 0;
	const struct window *first = NULL;

	for (uint32_t i = 0; i < nr_win && !first; i++)
		if (!win[i].file && reachable(win[i].gpa, win[i].bytes))
			first = &win[i];
	while (!config.duration_ms ||
	       rdtsc() - start < ms_to_tsc(config.duration_ms)) {
		while (rdtsc() < next)
			cpu_relax();
		next += ms_to_tsc(LOOP_MS);
		for (uint32_t i = 0; i < nr_win; i++)
			if (!win[i].file && reachable(win[i].gpa, win[i].bytes))
				check(!memcmp((const void *)(uintptr_t)win[i].gpa,
					      (const void *)(uintptr_t)win[i].src_gpa,
					      win[i].bytes),
				      "alias differs from its original",
				      win[i].gpa);
		if (first && config.alias_probe_gpa &&
		    rdtsc() - start >= ms_to_tsc(PROBE_AFTER_MS)) {
			check(!memcmp((const void *)(uintptr_t)config.alias_probe_gpa,
				      (const void *)(uintptr_t)first->src_gpa,
				      PAGE_SIZE),
			      "probed alias differs from the original",
			      config.alias_probe_gpa);
			if (pass % 10 == 0)
				printf("kvmtrack-guest: alias probe %#lx ok\n",
				       config.alias_probe_gpa);
		}
		if (++pass % 10 == 0)
			printf("kvmtrack-guest: alias pass %lu failed=%lu\n",
			       pass, failures);
	}
}

__noreturn void alias_workload(void)
{
	if (machine.fdt) {
		find_windows("kvmtrack,memory-alias", false);
		find_windows("kvmtrack,shared-file", true);
	}
	printf("kvmtrack-guest: workload alias: %u windows\n", nr_win);
	for (uint32_t i = 0; i < nr_win; i++) {
		if (win[i].file)
			check_file(&win[i]);
		else
			check_alias(&win[i]);
	}
	if (config.alias_loop)
		loop();
	printf("kvmtrack-guest: alias done status=%u checks=%lu failed=%lu\n",
	       failures ? STATUS_VERIFY_FAILED : STATUS_OK, checks, failures);
	guest_exit(failures ? STATUS_VERIFY_FAILED : STATUS_OK);
}
