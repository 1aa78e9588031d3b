// SPDX-License-Identifier: MIT
/*
 * writer: the Linux tests' workload, run by the initramfs's /init
 * (kt.then=writer). It rewrites a buffer of MIB MiB page by page at about
 * RATE pages a second (0: as fast as it can), each page filled with words
 * that only that page at that write can hold, and remembers every page's
 * last write. It prints "hb N" HZ times a second of its own clock (the
 * environment's WRITER_HZ, default 10: a benchmark that measures the gap a
 * migration leaves asks for more), every second "writer: rate R pages/s"
 * (pages it wrote over that second), and every CHECK heartbeats reads the
 * whole buffer back against what it remembers: "writer: check N ok pages P" or, at the first wrong word,
 * "writer: check N BAD page P word W" and exit status 1. A migration that
 * lost or misplaced a page, or the guest's clock and timers stopping, show
 * there. A second writer (one per busy vCPU) takes a TAG: its lines read
 * "TAG hb N" and "TAG: check ...", so the first one's stay whole. Static:
 * the initramfs has no libc.
 *
 * Usage: writer MIB RATE CHECK [TAG]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE_WORDS 512 /* 4 KiB of uint64_t */
#define STRIDE 7919 /* prime: every page once per round, not in order */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Word w of page p at its write number gen: distinct across all three. */
static uint64_t word(uint64_t gen, uint64_t p, uint64_t w)
{
	return (gen * 0x9e3779b97f4a7c15ull) ^ (p << 20) ^ w;
}

static void fill(uint64_t *page, uint64_t gen, uint64_t p)
{
	for (uint64_t w = 0; w < PAGE_WORDS; w++)
		page[w] = word(gen, p, w);
}

/* 0 if every page holds its last write, else prints the first bad word. */
static const char *tag = "writer";

static int check(const uint64_t *buf, const uint64_t *gen, uint64_t pages,
		 unsigned long n)
{
	for (uint64_t p = 0; p < pages; p++) {
		const uint64_t *page = buf + p * PAGE_WORDS;

		for (uint64_t w = 0; w < PAGE_WORDS; w++) {
			if (page[w] != word(gen[p], p, w)) {
				printf("%s: check %lu BAD page %llu word %llu\n",
				       tag, n, (unsigned long long)p,
				       (unsigned long long)w);
				return 1;
			}
		}
	}
	printf("%s: check %lu ok pages %llu\n", tag, n,
	       (unsigned long long)pages);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 0) : 64;
	uint64_t rate = argc > 2 ? strtoull(argv[2], NULL, 0) : 0;
	unsigned long every = argc > 3 ? strtoul(argv[3], NULL, 0) : 10;
	uint64_t pages = mib * 256, p = 0, written = 0, next_gen = 1;
	uint64_t start, next_beat, last_rate_ns, last_written = 0;
	unsigned long beats = 0, checks = 0, hz = 10;
	uint64_t *buf, *gen, beat_ns;

	if (getenv("WRITER_HZ"))
		hz = strtoul(getenv("WRITER_HZ"), NULL, 0);
	if (!pages || !every || !hz || hz > 1000) {
		fprintf(stderr, "usage: writer MIB RATE CHECK [TAG] (MIB, CHECK > 0; WRITER_HZ 1 to 1000)\n");
		return 2;
	}
	beat_ns = 1000000000ull / hz;
	if (argc > 4)
		tag = argv[4];
	setvbuf(stdout, NULL, _IOLBF, 0);
	buf = mmap(NULL, pages * PAGE_WORDS * 8, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	gen = calloc(pages, sizeof(*gen));
	if (buf == MAP_FAILED || !gen) {
		fprintf(stderr, "%s: cannot allocate %llu MiB\n", tag,
			(unsigned long long)mib);
		return 2;
	}
	for (uint64_t i = 0; i < pages; i++) {
		gen[i] = next_gen++;
		fill(buf + i * PAGE_WORDS, gen[i], i);
	}
	/* Its per-page counters are pages it writes too, all of them within
	 * any stretch of a few hundred writes: a dirty-rate truth counts them. */
	printf("%s: %llu MiB filled, rate %llu pages/s, counters %llu pages\n",
	       tag, (unsigned long long)mib, (unsigned long long)rate,
	       (unsigned long long)((pages * sizeof(*gen) + 4095) / 4096));
	start = now_ns();
	last_rate_ns = start;
	next_beat = start + beat_ns;
	for (;;) {
		uint64_t now = now_ns();

		if (now >= next_beat) {
			if (argc > 4)
				printf("%s hb %lu\n", tag, ++beats);
			else
				printf("hb %lu\n", ++beats);
			next_beat += beat_ns;
			if (next_beat < now)
				next_beat = now + beat_ns;
			/* What it wrote, by its own count and clock: the
			 * truth a dirty-rate measurement is held to. */
			if (beats % hz == 0) {
				printf("%s: rate %.0f pages/s\n", tag,
				       (written - last_written) * 1e9 /
					       (double)(now - last_rate_ns));
				last_written = written;
				last_rate_ns = now;
			}
			if (beats % every == 0 && check(buf, gen, pages, ++checks))
				return 1;
		}
		/* Ahead of the rate: wait for the clock, not for the CPU. */
		if (rate && written * 1000000000ull >= rate * (now - start)) {
			struct timespec nap = { 0, 1000000 };

			nanosleep(&nap, NULL);
			continue;
		}
		for (int i = 0; i < 64; i++, written++) {
			gen[p] = next_gen++;
			fill(buf + p * PAGE_WORDS, gen[p], p);
			p = (p + STRIDE) % pages;
		}
	}
}
