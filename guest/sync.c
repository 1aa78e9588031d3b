// SPDX-License-Identifier: MIT
/*
 * sync=1: host-driven passes, for phase-exact dirty-log benchmarks
 * (`kvmtrack bench dirtylog`). The writers do nothing until the host
 * queues TESTDEV_CMD_CONTINUE; then each writes one pass over its slice of
 * the working set, sends one REPORT for exactly that pass and holds still
 * until the next CONTINUE. TESTDEV_CMD_STOP ends the workload.
 *
 * Which pages a pass writes is a pure function of the page's index j in
 * the working set and the pass's percentage P: page j is written when
 * (j * P) mod 100 < P, which spreads exactly P % of every 100 consecutive
 * pages evenly (every page when P is 100). The host recomputes it to check
 * the dirty log page by page.
 *
 * Only slot 0 polls the test device (each poll is an MMIO exit, ~35 us from
 * CPL3, so it waits POLL_GAP_US between polls); the other writers wait on
 * a counter in memory, which costs no exit.
 */
#include "guest/sync.h"

#include "guest/abi/testdev.h"
#include "guest/config.h"
#include "guest/lib/compiler.h"
#include "guest/lib/exit.h"
#include "guest/lib/layout.h"
#include "guest/lib/machine.h"
#include "guest/lib/printf.h"
#include "guest/lib/testdev.h"
#include "guest/lib/x86.h"
#include "guest/stamp.h"

#define POLL_GAP_US 50

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

struct sync_writer {
	uint32_t cpu;
	uint64_t first; /* slice: working-set pages [first, first + pages) */
	uint64_t pages;
	uint64_t gen; /* stamps so far; low 32 bits (not 0) stamp */
	uint64_t total;
	uint32_t passes_done; /* written by the writer, read by slot 0 */
} __aligned(64);

static struct sync_writer sync_writers[MAX_CPUS];

static struct {
	uint32_t nr_writers;
	uint32_t pass; /* passes released by slot 0 */
	uint32_t percent; /* of the released pass */
	uint32_t stop;
	uint32_t finished; /* writers that saw stop */
} sctl;

/* Returns the number of pages written. */
static uint64_t write_pass(struct sync_writer *w, uint32_t percent)
{
	uint64_t j = w->first, end = w->first + w->pages, n = 0;
	uint64_t acc = j * percent % 100; /* (j * percent) mod 100 */

	for (; j < end; j++) {
		if (acc < percent) {
			if (!(uint32_t)++w->gen)
				w->gen++; /* generation 0 means "never written" */
			stamp_page(j, (uint32_t)w->gen);
			n++;
		}
		acc += percent;
		if (acc >= 100)
			acc -= 100;
	}
	return n;
}

/* One pass, then its REPORT: the host times the pass by the reports. */
static void run_pass(struct sync_writer *w, uint32_t seq, uint32_t percent)
{
	struct testdev_report r = { .vcpu = w->cpu, .seq = seq };
	uint64_t n;

	r.tsc_start = rdtsc();
	n = write_pass(w, percent);
	r.tsc_end = rdtsc();
	w->total += n;
	r.interval_pages_written = n;
	r.interval_distinct_pages = n;
	r.total_pages_written = w->total;
	r.generation = w->gen;
	testdev_report(w->cpu, &r);
	STORE(w->passes_done, seq + 1);
}

/* Slot 0: the next command, polling with a pause between exits. */
static uint32_t wait_cmd(uint64_t *arg)
{
	uint64_t gap = machine.tsc_khz * POLL_GAP_US / 1000, next;
	uint32_t cmd;

	for (;;) {
		cmd = testdev_poll_arg(0, arg);
		if (cmd != TESTDEV_CMD_NONE)
			return cmd;
		next = rdtsc() + gap;
		while (rdtsc() < next)
			cpu_relax();
	}
}

static void wait_writers(uint32_t passes)
{
	uint32_t s;

	for (s = 0; s < sctl.nr_writers; s++)
		while (LOAD(sync_writers[s].passes_done) < passes)
			cpu_relax();
}

static void coordinate(void)
{
	uint64_t arg;
	uint32_t cmd, seq;

	for (;;) {
		cmd = wait_cmd(&arg);
		if (cmd == TESTDEV_CMD_STOP)
			break;
		if (cmd != TESTDEV_CMD_CONTINUE)
			continue; /* VERIFY needs the writers still: at the end */
		seq = sctl.pass;
		sctl.percent = arg && arg <= 100 ? (uint32_t)arg
						 : config.write_percent;
		STORE(sctl.pass, seq + 1);
		if (sctl.nr_writers)
			run_pass(&sync_writers[0], seq, sctl.percent);
		wait_writers(seq + 1);
	}
	STORE(sctl.stop, 1);
}

void sync_start(uint32_t nr_writers)
{
	uint32_t s;

	sctl.nr_writers = nr_writers;
	for (s = 0; s < nr_writers; s++) {
		sync_writers[s].first = ws_pages * s / nr_writers;
		sync_writers[s].pages =
			ws_pages * (s + 1) / nr_writers - sync_writers[s].first;
	}
	printf("kvmtrack-guest: sync mode: %u writers, %lu pages, write_percent=%u; waiting for the host\n",
	       nr_writers, ws_pages, config.write_percent);
}

void sync_run(uint32_t cpu, uint32_t slot)
{
	struct sync_writer *w = &sync_writers[slot];
	uint32_t seq = 0;

	if (slot == 0) {
		w->cpu = cpu;
		coordinate();
		__atomic_add_fetch(&sctl.finished, 1, __ATOMIC_ACQ_REL);
		return;
	}
	if (slot < sctl.nr_writers) {
		w->cpu = cpu;
		for (;;) {
			while (LOAD(sctl.pass) == seq && !LOAD(sctl.stop))
				cpu_relax();
			if (LOAD(sctl.pass) == seq)
				break;
			run_pass(w, seq, sctl.percent);
			seq++;
		}
		__atomic_add_fetch(&sctl.finished, 1, __ATOMIC_ACQ_REL);
		return;
	}
	while (!LOAD(sctl.stop))
		cpu_relax();
}

__noreturn void sync_finish(void)
{
	struct verify_result res = { 0 };
	uint32_t status, want = MAX(sctl.nr_writers, 1u), s;
	uint64_t total = 0;

	while (LOAD(sctl.finished) < want)
		cpu_relax();
	for (s = 0; s < sctl.nr_writers; s++)
		total += sync_writers[s].total;
	if (config.verify)
		stamp_verify(&res);
	status = res.bad ? STATUS_VERIFY_FAILED : STATUS_OK;
	testdev_result(0, status, res.checked, res.bad, res.first_bad_gpa);
	printf("kvmtrack-guest: done status=%u pages_written=%lu verified=%lu bad=%lu passes=%u\n",
	       status, total, res.checked, res.bad, sctl.pass);
	guest_exit(status);
}
