// SPDX-License-Identifier: MIT
/*
 * The workloads, at CPL3 on every CPU. Writers own disjoint slices of the
 * working set, so they share nothing on the hot path; cross-CPU control
 * (start, stop, pause for a verification) is a few flags read between
 * batches with native lock-free atomics.
 *
 * Slot 0 (the boot CPU) also runs the "service" duties between its
 * batches: heartbeat, testdev polls, the duration limit, progress lines.
 */
#include "guest/workload.h"

#include "guest/abi/testdev.h"
#include "guest/config.h"
#include "guest/lib/compiler.h"
#include "guest/lib/exit.h"
#include "guest/lib/layout.h"
#include "guest/lib/machine.h"
#include "guest/lib/printf.h"
#include "guest/lib/string.h"
#include "guest/lib/testdev.h"
#include "guest/lib/tsc.h"
#include "guest/lib/x86.h"
#include "guest/stamp.h"
#include "guest/sync.h"

#define BATCH_PAGES 64 /* pages written between two looks at the clock */
#define MAX_BACKLOG_MS 20 /* rate pacing: credit kept after a stall */

struct writer {
	uint32_t cpu; /* vCPU index, for reports */
	uint64_t first; /* slice: working-set pages [first, first + pages) */
	uint64_t pages;
	uint64_t hot_pages; /* hotcold: the first 1/8 of the slice */
	uint64_t *bitmap; /* pages written in the current interval */
	uint64_t bitmap_words;
	uint64_t rng;
	uint64_t cursor; /* sweep position */
	uint64_t gen; /* writes so far; its low 32 bits (not 0) stamp */
	uint64_t total;
	uint64_t interval_written;
	uint64_t interval_distinct;
	uint64_t interval_start;
	uint64_t next_report;
	uint32_t seq;
	bool paced;
	uint64_t rate; /* pages/s of this writer when paced */
	uint64_t credit_tsc; /* pacing credit is computed up to here */
	uint64_t credit;
	uint64_t last_distinct; /* of the last finished interval */
} __aligned(64);

static struct writer writers[MAX_CPUS];

/* Written by slot 0 (go, stop, pause_seq) or by each slot (ack, done). */
static struct {
	uint32_t go;
	uint32_t stop;
	uint32_t pause_seq; /* odd: writers other than slot 0 hold still */
	uint32_t writers_done;
	uint32_t ack[MAX_CPUS];
	uint32_t done[MAX_CPUS];
	uint32_t nr_writers;
	uint64_t start_tsc;
	uint64_t stop_tsc;
	uint64_t report_ticks;
} ctl;

static struct {
	uint64_t hb_ticks, next_hb, hb_count;
	uint64_t next_poll;
	uint64_t end_tsc; /* 0: run until stopped */
	uint64_t progress_ticks, next_progress;
} svc;

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

static inline uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Uniform in [0, n) from 64 random bits, without a division. */
static inline uint64_t below(uint64_t r, uint64_t n)
{
	return (unsigned __int128)r * n >> 64;
}

static inline uint64_t pick(struct writer *w)
{
	uint64_t idx;

	switch (config.workload) {
	case TESTDEV_WL_SWEEP:
		idx = w->cursor;
		if (++w->cursor == w->pages)
			w->cursor = 0;
		return idx;
	case TESTDEV_WL_HOTCOLD:
		if (w->hot_pages == w->pages ||
		    below(xorshift64(&w->rng), 10) < 9)
			return below(xorshift64(&w->rng), w->hot_pages);
		return w->hot_pages +
		       below(xorshift64(&w->rng), w->pages - w->hot_pages);
	default:
		return below(xorshift64(&w->rng), w->pages);
	}
}

static inline void write_one(struct writer *w)
{
	uint64_t idx = pick(w), mask = 1ull << (idx & 63);
	uint64_t *word = &w->bitmap[idx >> 6];

	if (!(uint32_t)++w->gen)
		w->gen++; /* generation 0 means "never written" */
	stamp_page(w->first + idx, (uint32_t)w->gen);
	if (!(*word & mask)) {
		*word |= mask;
		w->interval_distinct++;
	}
	w->interval_written++;
	w->total++;
}

/* How many pages the writer may write now (token bucket on the TSC). */
static uint64_t writable(struct writer *w, uint64_t now)
{
	uint64_t hz = machine.tsc_khz * 1000, add, cap, n;

	if (config.workload == TESTDEV_WL_IDLE || !w->pages)
		return 0;
	if (!w->paced)
		return BATCH_PAGES;
	add = (unsigned __int128)(now - w->credit_tsc) * w->rate / hz;
	if (add) {
		/* Advance by what was credited only, keeping the remainder. */
		w->credit_tsc += (unsigned __int128)add * hz / w->rate;
		w->credit += add;
	}
	cap = MAX((uint64_t)BATCH_PAGES, w->rate * MAX_BACKLOG_MS / 1000);
	if (w->credit > cap) {
		w->credit = cap;
		w->credit_tsc = now;
	}
	n = MIN(w->credit, (uint64_t)BATCH_PAGES);
	w->credit -= n;
	return n;
}

static void end_interval(struct writer *w, uint64_t now)
{
	struct testdev_report r = {
		.vcpu = w->cpu,
		.seq = w->seq,
		.tsc_start = w->interval_start,
		.tsc_end = now,
		.interval_pages_written = w->interval_written,
		.interval_distinct_pages = w->interval_distinct,
		.total_pages_written = w->total,
		.generation = w->gen,
	};

	testdev_report(w->cpu, &r);
	if (w->interval_distinct)
		memset(w->bitmap, 0, w->bitmap_words * 8);
	w->last_distinct = w->interval_distinct;
	w->interval_written = 0;
	w->interval_distinct = 0;
	w->seq++;
	w->interval_start = now;
	w->next_report += ctl.report_ticks;
	if (w->next_report <= now)
		w->next_report = now + ctl.report_ticks;
}

static void request_stop(const char *why)
{
	if (LOAD(ctl.stop))
		return;
	ctl.stop_tsc = rdtsc();
	STORE(ctl.stop, 1);
	printf("kvmtrack-guest: workload stop (%s)\n", why);
}

/* Slot 0 only: park the other writers at a batch boundary. */
static void pause_others(void)
{
	uint32_t seq = ctl.pause_seq + 1, s;

	STORE(ctl.pause_seq, seq);
	for (s = 1; s < ctl.nr_writers; s++) {
		while (LOAD(ctl.ack[s]) != seq && !LOAD(ctl.done[s]))
			cpu_relax();
	}
}

static void resume_others(void)
{
	STORE(ctl.pause_seq, ctl.pause_seq + 1);
}

static void check_pause(uint32_t slot)
{
	uint32_t seq = LOAD(ctl.pause_seq);

	if (!(seq & 1))
		return;
	/* The release store publishes this writer's stamps and table. */
	STORE(ctl.ack[slot], seq);
	while (LOAD(ctl.pause_seq) == seq)
		cpu_relax();
}

static void verify_now(void)
{
	struct verify_result res;

	pause_others();
	stamp_verify(&res);
	resume_others();
	testdev_result(0, res.bad ? STATUS_VERIFY_FAILED : STATUS_OK,
		       res.checked, res.bad, res.first_bad_gpa);
	printf("kvmtrack-guest: verify on request: checked=%lu bad=%lu\n",
	       res.checked, res.bad);
}

static uint64_t total_written(void)
{
	uint64_t sum = 0;
	uint32_t s;

	for (s = 0; s < ctl.nr_writers; s++)
		sum += *(volatile uint64_t *)&writers[s].total;
	return sum;
}

static void print_progress(uint64_t now)
{
	uint64_t ms = tsc_to_ms(now - ctl.start_tsc);

	printf("kvmtrack-guest: progress t=%lu.%03lus pages=%lu distinct0=%lu\n",
	       ms / 1000, ms % 1000, total_written(),
	       ctl.nr_writers ? writers[0].last_distinct : 0);
}

/* Slot 0, between its batches. Each branch costs one compare when idle. */
static void service(uint64_t now)
{
	if (svc.hb_ticks && now >= svc.next_hb) {
		printf("hb %lu\n", ++svc.hb_count);
		svc.next_hb += svc.hb_ticks;
		if (svc.next_hb <= now)
			svc.next_hb = now + svc.hb_ticks;
	}
	if (now >= svc.next_poll) {
		uint32_t cmd = testdev_poll(0);

		svc.next_poll = now + ctl.report_ticks;
		if (cmd == TESTDEV_CMD_STOP)
			request_stop("testdev");
		else if (cmd == TESTDEV_CMD_VERIFY)
			verify_now();
	}
	if (svc.end_tsc && now >= svc.end_tsc)
		request_stop("duration");
	if (svc.progress_ticks && now >= svc.next_progress) {
		print_progress(now);
		svc.next_progress += svc.progress_ticks;
		if (svc.next_progress <= now)
			svc.next_progress = now + svc.progress_ticks;
	}
}

static void writer_loop(struct writer *w, uint32_t slot)
{
	uint64_t now = ctl.start_tsc, n, i;

	while (!LOAD(ctl.stop)) {
		n = writable(w, now);
		for (i = 0; i < n; i++)
			write_one(w);
		now = rdtsc();
		if (now >= w->next_report)
			end_interval(w, now);
		if (slot == 0)
			service(now);
		else
			check_pause(slot);
		if (!n)
			cpu_relax();
	}
	/* The last, partial interval is ground truth too. */
	end_interval(w, rdtsc());
	STORE(ctl.done[slot], 1);
	__atomic_add_fetch(&ctl.writers_done, 1, __ATOMIC_ACQ_REL);
}

static void setup_writer(uint32_t slot, uint32_t n)
{
	struct writer *w = &writers[slot];
	uint64_t rate = config.rate_pages_per_s;

	w->first = ws_pages * slot / n;
	w->pages = ws_pages * (slot + 1) / n - w->first;
	w->hot_pages = MAX(w->pages / 8, 1ull);
	w->bitmap = stamp_bitmap(slot, &w->bitmap_words);
	w->rng = 0x9e3779b97f4a7c15ull * (slot + 1);
	w->paced = rate != 0;
	w->rate = rate / n + (slot < rate % n);
	if (w->paced && !w->rate)
		w->pages = 0; /* rate below one page/s per writer: idle */
	w->interval_start = ctl.start_tsc;
	w->next_report = ctl.start_tsc + ctl.report_ticks;
	w->credit_tsc = ctl.start_tsc;
}

void workload_start(uint32_t nr_cpus, uint32_t nr_writers)
{
	uint32_t s;

	if (config.sync) {
		sync_start(nr_writers);
		STORE(ctl.go, 1);
		return;
	}
	ctl.nr_writers = nr_writers;
	ctl.report_ticks = ms_to_tsc(config.report_ms);
	ctl.start_tsc = rdtsc();
	for (s = 0; s < nr_writers; s++)
		setup_writer(s, nr_writers);
	svc.hb_ticks = ms_to_tsc(config.heartbeat_ms);
	svc.next_hb = ctl.start_tsc + svc.hb_ticks;
	svc.next_poll = ctl.start_tsc + ctl.report_ticks;
	svc.end_tsc = config.duration_ms ?
			      ctl.start_tsc + ms_to_tsc(config.duration_ms) :
			      0;
	svc.progress_ticks = ms_to_tsc(config.progress_ms);
	svc.next_progress = ctl.start_tsc + svc.progress_ticks;
	printf("kvmtrack-guest: workload %s start: %u cpus, %u writers, %lu pages, rate %lu pages/s\n",
	       workload_name(config.workload), nr_cpus, nr_writers, ws_pages,
	       config.rate_pages_per_s);
	STORE(ctl.go, 1);
}

void workload_run(uint32_t cpu, uint32_t slot)
{
	while (!LOAD(ctl.go))
		cpu_relax();
	if (config.sync) {
		sync_run(cpu, slot);
		return;
	}
	if (slot < ctl.nr_writers) {
		writers[slot].cpu = cpu;
		writer_loop(&writers[slot], slot);
		return;
	}
	/* Not a writer: slot 0 still serves; the others wait for the end. */
	if (slot != 0 && config.ap_halt)
		return;
	while (!LOAD(ctl.stop)) {
		if (slot == 0)
			service(rdtsc());
		cpu_relax();
	}
}

__noreturn void workload_finish(void)
{
	struct verify_result res = { 0 };
	uint64_t total, ms, per_s;
	uint32_t status;

	if (config.sync)
		sync_finish();
	while (LOAD(ctl.writers_done) != ctl.nr_writers)
		cpu_relax();
	total = total_written();
	ms = tsc_to_ms(ctl.stop_tsc - ctl.start_tsc);
	per_s = ms ? total * 1000 / ms : 0;
	printf("kvmtrack-guest: wrote %lu pages in %lu ms: %lu pages/s, %lu per writer\n",
	       total, ms, per_s, ctl.nr_writers ? per_s / ctl.nr_writers : 0);
	if (config.corrupt_pages) {
		stamp_corrupt(config.corrupt_pages);
		printf("kvmtrack-guest: spoiled %lu pages (_corrupt)\n",
		       config.corrupt_pages);
	}
	if (config.verify)
		stamp_verify(&res);
	status = res.bad ? STATUS_VERIFY_FAILED : STATUS_OK;
	testdev_result(0, status, res.checked, res.bad, res.first_bad_gpa);
	printf("kvmtrack-guest: done status=%u pages_written=%lu verified=%lu bad=%lu\n",
	       status, total, res.checked, res.bad);
	guest_exit(status);
}
