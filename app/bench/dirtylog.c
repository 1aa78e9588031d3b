// SPDX-License-Identifier: MIT
/*
 * `bench dirtylog` (see bench_dirtylog.h): boots the guest in sync mode in
 * this process, drives its passes through the test device and times each
 * phase around them.
 *
 * The guest does nothing between passes but poll the test device from one
 * vCPU (an exit every ~50 us), so a phase measured by the host contains
 * only the work it names. A pass is timed twice: by the host, from
 * queueing TESTDEV_CMD_CONTINUE to handling the last writer's REPORT of
 * the pass (pickup latency of up to one poll gap included), and by the
 * guest's own TSC stamps in those REPORTs (first start to last end), from
 * which the page rate is derived.
 */
#include "app/bench/dirtylog.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/bench/dirtylog_bare.h"
#include "devices/registry.h"
#include "devices/testdev.h"
#include "lib/clock.h"
#include "lib/thread_cpu.h"
#include "vmm/mem/memory.h"
#include "vmm/vm.h"

#define HELLO_TIMEOUT_MS 60000u
#define PASS_TIMEOUT_MS 120000u
#define STOP_TIMEOUT_MS 60000u
#define WAIT_SLICE_MS 100u
/* Dirty pages allowed outside the working set per pass, besides the
 * generation table (4 bytes per page written): stacks, message buffers,
 * the writers' counters. */
#define METADATA_SLACK_PAGES 64u

struct bench_ctx {
	const struct bench_dirtylog_opts *o;
	struct bench_dirtylog_result *r;
	struct vm *vm;
	struct testdev *td;
	struct dirty_tracker *t;
	struct bench_bare *bare;
	struct dirty_set set;
	bool set_ready;
	bool attached;
	bool bare_logging;
	pthread_t run_thread;
	bool running;
	int run_status;
	uint64_t reports; /* REPORTs received so far */
	uint32_t passes; /* CONTINUEs sent so far */
	int reaper_tid; /* tracked ring: the dirty module's reaper, or 0 */
	char *err;
	size_t err_len;
};

uint64_t bench_dirtylog_guest_ram(uint64_t wss_bytes)
{
	/* Image, tables and boot data below 4 MiB, the generation table (4
	 * bytes per page) and the writers' bitmaps, 2 MiB-aligned. */
	uint64_t ram = wss_bytes + wss_bytes / 128 + (16ull << 20);

	return (ram + (2ull << 20) - 1) & ~((2ull << 20) - 1);
}

const char *bench_dirtylog_split(enum dirty_backend backend, bool bare)
{
	switch (backend) {
	case DIRTY_BACKEND_BITMAP:
		return bare ? "get = KVM_GET_DIRTY_LOG (clears as it reads); clear = 0"
			    : "get = dirty_sync (KVM_GET_DIRTY_LOG, which clears, + fan-out); clear = 0";
	case DIRTY_BACKEND_MANUAL:
		return bare ? "get = KVM_GET_DIRTY_LOG; clear = KVM_CLEAR_DIRTY_LOG of every page (all-ones mask)"
			    : "get = dirty_sync(defer_clear) (KVM_GET_DIRTY_LOG + fan-out); clear = dirty_clear_pages over every region";
	case DIRTY_BACKEND_RING:
		return bare ? "reaper = ring harvest + KVM_RESET_DIRTY_RINGS every 10 ms during the pass (thread CPU time); get = the last harvest + reset; clear = 0"
			    : "reaper = the dirty module's ring reaper during the pass (thread CPU time); get = dirty_sync (last harvest + KVM_RESET_DIRTY_RINGS); clear = 0";
	default:
		return "";
	}
}

/* --- the VM in a thread -------------------------------------------------- */

static void *run_thread(void *arg)
{
	struct bench_ctx *c = arg;

	c->run_status = vm_run(c->vm);
	return NULL;
}

static int fail(struct bench_ctx *c, int ret, const char *what)
{
	snprintf(c->err, c->err_len, "%s: %s", what, strerror(-ret));
	return ret;
}

static int boot_vm(struct bench_ctx *c)
{
	const struct bench_dirtylog_opts *o = c->o;
	char cmdline[256];
	struct vm_config cfg = {
		.image_path = o->image_path,
		.mem_bytes = c->r->guest_ram_bytes,
		.nr_cpus = o->nr_vcpus,
		.cmdline = cmdline,
		.serial = o->serial,
		.dirty = o->dirty,
		.devices = device_table,
		.nr_devices = device_table_len,
	};
	int ret;

	snprintf(cmdline, sizeof(cmdline),
		 "workload=sweep sync=1 wss=%lluK vcpus=%u write_percent=%u verify=%u progress=0",
		 (unsigned long long)(o->wss_bytes >> 10), o->nr_vcpus,
		 o->write_percent, o->verify ? 1 : 0);
	ret = vm_create(&cfg, &c->vm);
	if (ret < 0)
		return fail(c, ret, "cannot create the VM");
	ret = vm_boot(c->vm, c->err, c->err_len);
	if (ret < 0)
		return ret;
	c->td = testdev_of(c->vm);
	c->t = vm_dirty(c->vm);
	c->r->backend = dirty_tracker_backend(c->t);
	if (!c->td)
		return fail(c, -ENODEV, "no test device");
	return 0;
}

static bool vm_stopped(struct bench_ctx *c)
{
	return vm_get_state(c->vm) == VM_STOPPED;
}

static int wait_hello(struct bench_ctx *c, struct testdev_hello *hello)
{
	for (unsigned int waited = 0; waited < HELLO_TIMEOUT_MS;
	     waited += WAIT_SLICE_MS) {
		if (!testdev_wait_hello(c->td, WAIT_SLICE_MS))
			return testdev_hello(c->td, hello);
		if (vm_stopped(c))
			return fail(c, -ECHILD, "the guest stopped before its HELLO");
	}
	return fail(c, -ETIMEDOUT, "no HELLO from the guest");
}

static int start_guest(struct bench_ctx *c)
{
	struct testdev_hello hello;
	uint64_t t0 = clock_now_ns();
	int ret = pthread_create(&c->run_thread, NULL, run_thread, c);

	if (ret)
		return fail(c, -ret, "cannot start the VM thread");
	c->running = true;
	ret = wait_hello(c, &hello);
	if (ret < 0)
		return ret;
	c->r->boot_ns = clock_now_ns() - t0;
	c->r->wss_bytes = hello.wss_bytes;
	c->r->wss_base_gpa = hello.wss_base_gpa;
	if (hello.wss_bytes != c->o->wss_bytes) {
		snprintf(c->err, c->err_len,
			 "the guest laid out %llu bytes of working set, not %llu",
			 (unsigned long long)hello.wss_bytes,
			 (unsigned long long)c->o->wss_bytes);
		return -ERANGE;
	}
	return 0;
}

/* Stops the guest (STOP, or a stop request on failure) and joins it. */
static void stop_guest(struct bench_ctx *c, bool ok)
{
	if (!c->running)
		return;
	if (!ok || testdev_queue_cmd(c->td, TESTDEV_CMD_STOP, 0) < 0)
		vm_request_stop(c->vm, VM_STOP_ERROR, 1, "benchmark aborted");
	for (unsigned int waited = 0; !vm_stopped(c); waited += 10) {
		const struct timespec ms10 = { 0, 10000000L };

		if (waited >= STOP_TIMEOUT_MS) {
			vm_request_stop(c->vm, VM_STOP_ERROR, 1,
					"the guest did not stop in time");
			break;
		}
		nanosleep(&ms10, NULL);
	}
	pthread_join(c->run_thread, NULL);
	c->running = false;
	c->r->guest_status = c->run_status;
}

/* --- one pass ------------------------------------------------------------ */

struct pass_result {
	uint64_t host_ns;
	uint64_t guest_ns;
	uint64_t pages;
};

/* The REPORTs of pass `seq`, one per writer: pages and guest-side span. */
static int pass_reports(struct bench_ctx *c, uint32_t seq,
			struct pass_result *p)
{
	uint64_t first = UINT64_MAX, last = 0, khz = vm_tsc_khz(c->vm);

	p->pages = 0;
	for (unsigned int v = 0; v < c->o->nr_vcpus; v++) {
		struct testdev_report rep;

		if (testdev_latest_report(c->td, v, &rep) < 0 || rep.seq != seq)
			return fail(c, -EPROTO, "a writer did not report its pass");
		p->pages += rep.interval_pages_written;
		first = rep.tsc_start < first ? rep.tsc_start : first;
		last = rep.tsc_end > last ? rep.tsc_end : last;
	}
	p->guest_ns = khz && last > first ? (last - first) * 1000000ull / khz : 0;
	return 0;
}

static int run_pass(struct bench_ctx *c, unsigned int percent,
		    struct pass_result *p)
{
	uint64_t want = c->reports + c->o->nr_vcpus, t0;
	uint32_t seq = c->passes;
	int ret;

	t0 = clock_now_ns();
	ret = testdev_queue_cmd(c->td, TESTDEV_CMD_CONTINUE, percent);
	if (ret < 0)
		return fail(c, ret, "cannot queue CONTINUE");
	c->passes++;
	for (unsigned int waited = 0;; waited += WAIT_SLICE_MS) {
		if (!testdev_wait_reports(c->td, want, WAIT_SLICE_MS))
			break;
		if (vm_stopped(c))
			return fail(c, -ECHILD, "the guest stopped during a pass");
		if (waited >= PASS_TIMEOUT_MS)
			return fail(c, -ETIMEDOUT, "a pass did not end");
	}
	p->host_ns = clock_now_ns() - t0;
	c->reports = want;
	return pass_reports(c, seq, p);
}

/* --- logging on and off, harvest ----------------------------------------- */

static int enable_logging(struct bench_ctx *c)
{
	int before[256], after[256], nb, na, ret;
	uint64_t t0;

	if (c->o->bare) {
		t0 = clock_now_ns();
		ret = bench_bare_logging(c->bare, true);
		c->r->enable_ns = clock_now_ns() - t0;
		c->bare_logging = ret == 0;
		return ret < 0 ? fail(c, ret, "cannot enable logging") : 0;
	}
	nb = thread_ids(before, 256);
	t0 = clock_now_ns();
	ret = dirty_attach(c->t, &c->set);
	c->r->enable_ns = clock_now_ns() - t0;
	if (ret < 0)
		return fail(c, ret, "dirty_attach");
	c->attached = true;
	na = thread_ids(after, 256);
	if (c->r->backend == DIRTY_BACKEND_RING)
		c->reaper_tid = thread_new(before, nb, after, na);
	return 0;
}

static int disable_logging(struct bench_ctx *c)
{
	uint64_t t0 = clock_now_ns();
	int ret;

	if (c->o->bare) {
		ret = bench_bare_logging(c->bare, false);
		c->bare_logging = false;
	} else {
		ret = dirty_detach(c->t, &c->set);
		c->attached = false;
	}
	c->r->disable_ns = clock_now_ns() - t0;
	return ret < 0 ? fail(c, ret, "cannot disable logging") : 0;
}

static int clear_tracked(struct bench_ctx *c)
{
	const struct guest_mem *mem = vm_mem(c->vm);
	int ret = 0;

	for (unsigned int i = 0; i < mem->nr_regions && !ret; i++)
		ret = dirty_clear_pages(c->t, i, 0,
					mem_region_pages(&mem->regions[i]));
	return ret;
}

/* get-log and clear-log of one iteration, timed. */
static int harvest(struct bench_ctx *c, struct bench_iter *it)
{
	bool manual = c->r->backend == DIRTY_BACKEND_MANUAL;
	uint64_t t0 = clock_now_ns();
	int ret;

	ret = c->o->bare ? bench_bare_get(c->bare) : dirty_sync(c->t, manual);
	it->get_ns = clock_now_ns() - t0;
	if (ret < 0)
		return fail(c, ret, "get-log");
	t0 = clock_now_ns();
	if (c->o->bare)
		ret = bench_bare_clear(c->bare);
	else if (manual)
		ret = clear_tracked(c);
	it->clear_ns = clock_now_ns() - t0;
	return ret < 0 ? fail(c, ret, "clear-log") : 0;
}

/* --- the check ------------------------------------------------------------ */

/* Compares the log with the pages pass `percent` wrote; clears the set. */
static void check_iteration(struct bench_ctx *c, unsigned int percent,
			    struct bench_iter *it)
{
	const struct guest_mem *mem = vm_mem(c->vm);
	int region = guest_mem_region_index(mem, c->r->wss_base_gpa);
	uint64_t first, pages = c->r->wss_bytes / GUEST_PAGE_BYTES;

	if (c->o->bare)
		bench_bare_collect(c->bare, &c->set);
	it->dirty_pages = dirty_set_count(&c->set);
	it->dirty_in_wss = it->missing = it->unexpected = 0;
	if (region >= 0) {
		first = (c->r->wss_base_gpa - mem->regions[region].gpa) /
			GUEST_PAGE_BYTES;
		for (uint64_t j = 0; j < pages; j++) {
			bool want = j * percent % 100 < percent;
			bool dirty = dirty_set_test(&c->set, (unsigned int)region,
						    first + j);

			it->dirty_in_wss += dirty;
			it->missing += want && !dirty;
			it->unexpected += dirty && !want;
		}
	}
	if (it->missing || it->unexpected || it->pages_written != it->dirty_in_wss ||
	    it->dirty_pages - it->dirty_in_wss > c->r->metadata_bound_pages)
		c->r->correct = false;
	dirty_set_clear(&c->set);
}

static int iterate(struct bench_ctx *c, struct bench_iter *it)
{
	unsigned int percent = c->o->write_percent;
	uint64_t reaper0 = thread_cpu_ns(c->reaper_tid), bare_reaper = 0;
	struct pass_result p;
	int ret;

	if (c->o->bare && (ret = bench_bare_pass_begin(c->bare)) < 0)
		return fail(c, ret, "cannot start the ring reaper");
	ret = run_pass(c, percent, &p);
	if (c->o->bare) {
		int ret2 = bench_bare_pass_end(c->bare, &bare_reaper);

		if (!ret && ret2 < 0)
			ret = fail(c, ret2, "ring reaper");
	}
	if (ret < 0)
		return ret;
	it->dirty_ns = p.host_ns;
	it->guest_pass_ns = p.guest_ns;
	it->pages_written = p.pages;
	ret = harvest(c, it);
	if (ret < 0)
		return ret;
	it->reaper_ns = c->o->bare ? bare_reaper
				   : thread_cpu_ns(c->reaper_tid) - reaper0;
	check_iteration(c, percent, it);
	return 0;
}

/* --- the whole run -------------------------------------------------------- */

static int populate(struct bench_ctx *c)
{
	struct pass_result p;
	int ret = run_pass(c, 100, &p);

	if (ret < 0)
		return ret;
	c->r->populate_ns = p.host_ns;
	c->r->populate_guest_ns = p.guest_ns;
	c->r->populate_pages = p.pages;
	return 0;
}

/*
 * Untimed, once logging is on: takes what is pending before the first
 * iteration, so that iteration sees what the steady state does. Pending
 * are the guest's polls since logging went on and, for a tracked run, the
 * VMM's own writes since boot (the loaded image, boot data), which the
 * dirty module hands out on its first sync.
 */
static int settle(struct bench_ctx *c)
{
	int ret;

	if (c->o->bare) {
		ret = bench_bare_get(c->bare);
		ret = ret ?: bench_bare_clear(c->bare);
		bench_bare_collect(c->bare, &c->set);
	} else {
		ret = dirty_sync(c->t, false);
	}
	dirty_set_clear(&c->set);
	return ret < 0 ? fail(c, ret, "first harvest") : 0;
}

static int measure(struct bench_ctx *c)
{
	int ret = start_guest(c);

	ret = ret ?: populate(c);
	ret = ret ?: enable_logging(c);
	ret = ret ?: settle(c);
	for (unsigned int i = 0; i < c->o->iterations && !ret; i++) {
		ret = iterate(c, &c->r->iters[i]);
		c->r->nr_iters += ret == 0;
	}
	ret = ret ?: disable_logging(c);
	return ret;
}

static void init_result(const struct bench_dirtylog_opts *o,
			struct bench_dirtylog_result *r)
{
	uint64_t pages = o->wss_bytes / GUEST_PAGE_BYTES;

	memset(r, 0, sizeof(*r));
	r->bare = o->bare;
	r->nr_vcpus = o->nr_vcpus;
	r->write_percent = o->write_percent;
	r->ring_entries = o->dirty.ring_entries;
	r->guest_ram_bytes = bench_dirtylog_guest_ram(o->wss_bytes);
	r->metadata_bound_pages = (pages * 4 + GUEST_PAGE_BYTES - 1) /
					  GUEST_PAGE_BYTES +
				  METADATA_SLACK_PAGES;
	r->correct = true;
}

static void cleanup(struct bench_ctx *c, bool ok)
{
	if (c->bare_logging)
		bench_bare_logging(c->bare, false);
	if (c->attached)
		dirty_detach(c->t, &c->set);
	stop_guest(c, ok);
	bench_bare_destroy(c->bare);
	if (c->set_ready)
		dirty_set_free(&c->set);
	vm_destroy(c->vm);
}

int bench_dirtylog_run(const struct bench_dirtylog_opts *o,
		       struct bench_dirtylog_result *r, char *err,
		       size_t err_len)
{
	struct bench_ctx c = { .o = o, .r = r, .err = err, .err_len = err_len };
	int ret;

	init_result(o, r);
	r->iters = calloc(o->iterations ? o->iterations : 1, sizeof(*r->iters));
	if (!r->iters)
		return -ENOMEM;
	ret = boot_vm(&c);
	if (!ret) {
		ret = dirty_set_init(&c.set, vm_mem(c.vm));
		c.set_ready = ret == 0;
	}
	if (!ret && o->bare) {
		ret = bench_bare_create(c.vm, &o->dirty, &c.bare);
		if (ret < 0)
			fail(&c, ret, "cannot set up the bare harvest");
	}
	ret = ret ?: measure(&c);
	cleanup(&c, ret == 0);
	if (!ret && r->guest_status != 0) {
		snprintf(err, err_len, "the guest exited with status %d",
			 r->guest_status);
		r->correct = false;
	}
	return ret;
}

void bench_dirtylog_result_free(struct bench_dirtylog_result *r)
{
	free(r->iters);
	r->iters = NULL;
}
