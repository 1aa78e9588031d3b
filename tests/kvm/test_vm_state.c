// SPDX-License-Identifier: MIT
/*
 * Machine state save/load (migrate/vm_state.h), after the KVM selftests'
 * x86/state_test: the bundled guest runs in VM A, which is paused and
 * saved; VM B is created with the same configuration, gets A's memory and
 * state, and runs the guest to its end. The guest's own verification of
 * every stamp must pass and its work must have gone on past what A did.
 * B's state saved right after the load must equal A's but for what the
 * passing of time changes. Then malformed streams, each refused with a
 * message.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/bench/dirtylog.h"
#include "app/cli.h"
#include "devices/registry.h"
#include "devices/testdev.h"
#include "kvm/platform_snapshot.h"
#include "kvm/vcpu_snapshot.h"
#include "migrate/vm_state.h"
#include "migrate/vm_state_parse.h"
#include "tests/helpers.h"
#include "vmm/mem/memory.h"
#include "vmm/vm.h"

#define CMDLINE "workload=random wss=16M vcpus=2 duration=2 verify=1"
#define MSR_IA32_TSC 0x10u
#define MSR_HV_VP_RUNTIME 0x40000010u
#define MSR_HV_TIME_REF_COUNT 0x40000020u
#define APIC_TMCCT 0x390 /* LAPIC timer current count */

struct runner {
	struct vm *vm;
	pthread_t thread;
	int status;
	char cpus[4];
	char serial[96];
	struct vm_config cfg;
};

static void *run_vm(void *arg)
{
	struct runner *r = arg;

	r->status = vm_run(r->vm);
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void create_vm(struct runner *r, unsigned int cpus, const char *serial,
		      bool boot)
{
	char *argv[] = { "run",	      "-m",	   "64M",      "-c",
			 r->cpus,     "--serial", r->serial, "--cmdline",
			 CMDLINE,     GUEST_ELF,  NULL };
	char err[256];

	snprintf(r->cpus, sizeof(r->cpus), "%u", cpus);
	snprintf(r->serial, sizeof(r->serial), "%s", serial);
	cr_assert_eq(cli_parse_run(10, argv, &r->cfg, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(vm_create(&r->cfg, &r->vm), 0);
	if (boot)
		cr_assert_eq(vm_boot(r->vm, err, sizeof(err)), 0, "%s", err);
}

static void start_vm(struct runner *r)
{
	cr_assert_eq(pthread_create(&r->thread, NULL, run_vm, r), 0);
}

/* Pages the guest has reported written, over all vCPUs. */
static uint64_t reported_pages(struct vm *vm)
{
	struct testdev *td = testdev_of(vm);
	uint64_t total = 0;

	for (uint32_t v = 0; v < vm_nr_vcpus(vm); v++) {
		struct testdev_report rep;

		if (!testdev_latest_report(td, v, &rep))
			total += rep.total_pages_written;
	}
	return total;
}

static void copy_memory(struct vm *dst, struct vm *src)
{
	const struct guest_mem *s = vm_mem(src);
	struct guest_mem *d = vm_mem(dst);

	cr_assert_eq(d->nr_regions, s->nr_regions);
	for (unsigned int i = 0; i < s->nr_regions; i++) {
		cr_assert_eq(d->regions[i].size_bytes, s->regions[i].size_bytes);
		memcpy(d->regions[i].hva, s->regions[i].hva,
		       s->regions[i].size_bytes);
	}
}

static void parse(const struct wbuf *w, struct vm_state_parsed *p)
{
	struct rbuf r;
	char err[256] = "";

	rbuf_init(&r, w->data, w->len);
	memset(p, 0, sizeof(*p));
	cr_assert_eq(vm_state_parse(&r, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rbuf_left(&r), 0);
}

/*
 * MSRs whose value counts time by itself: IA32_TSC, and the Hyper-V vCPU
 * run time and reference counter (100 ns units) that KVM lists and some
 * kernels (kvm_amd's among them) report as saved state.
 */
static bool msr_counts_time(uint32_t index)
{
	return index == MSR_IA32_TSC || index == MSR_HV_VP_RUNTIME ||
	       index == MSR_HV_TIME_REF_COUNT;
}

/* Same index list; same values but the counters, which count on in B. */
static void compare_msrs(const struct vcpu_snapshot *a,
			 const struct vcpu_snapshot *b)
{
	cr_assert_eq(a->nr_msrs, b->nr_msrs);
	cr_expect_eq(a->msrs[0].index, MSR_IA32_TSC, "IA32_TSC comes first");
	for (uint32_t i = 0; i < a->nr_msrs; i++) {
		cr_assert_eq(a->msrs[i].index, b->msrs[i].index);
		if (msr_counts_time(a->msrs[i].index)) {
			/* They run while B waits between load and save:
			 * later, and never backwards. */
			cr_expect_geq(b->msrs[i].data, a->msrs[i].data,
				      "vcpu %u: MSR 0x%x went back", a->index,
				      a->msrs[i].index);
			/* The TSC by well under a second (2.6 GHz). */
			if (a->msrs[i].index == MSR_IA32_TSC)
				cr_expect_lt(b->msrs[i].data - a->msrs[i].data,
					     10000000000ull);
			continue;
		}
		cr_expect_eq(a->msrs[i].data, b->msrs[i].data,
			     "vcpu %u: MSR 0x%x: 0x%llx then 0x%llx", a->index,
			     a->msrs[i].index,
			     (unsigned long long)a->msrs[i].data,
			     (unsigned long long)b->msrs[i].data);
	}
}

static void compare_vcpu(const struct vcpu_snapshot *a,
			 const struct vcpu_snapshot *b)
{
	struct kvm_lapic_state la = a->lapic, lb = b->lapic;

	cr_expect_eq(a->mp_state, b->mp_state, "vcpu %u: mp_state", a->index);
	cr_expect(!memcmp(&a->regs, &b->regs, sizeof(a->regs)),
		  "vcpu %u: regs", a->index);
	cr_expect(!memcmp(&a->sregs, &b->sregs, sizeof(a->sregs)),
		  "vcpu %u: sregs", a->index);
	cr_assert_eq(a->has_xsave, b->has_xsave);
	if (a->has_xsave)
		cr_expect(a->xsave_bytes == b->xsave_bytes &&
				  !memcmp(a->xsave, b->xsave, a->xsave_bytes),
			  "vcpu %u: xsave", a->index);
	else
		cr_expect(!memcmp(&a->fpu, &b->fpu, sizeof(a->fpu)),
			  "vcpu %u: fpu", a->index);
	cr_expect(!memcmp(&a->xcrs, &b->xcrs, sizeof(a->xcrs)),
		  "vcpu %u: xcrs", a->index);
	cr_expect(!memcmp(&a->debugregs, &b->debugregs, sizeof(a->debugregs)),
		  "vcpu %u: debugregs", a->index);
	/* The timer's current count is computed from the host time left at
	 * each read; the guest does not use the timer, so it is 0, but a
	 * guest that does would see it differ. */
	memset(la.regs + APIC_TMCCT, 0, 4);
	memset(lb.regs + APIC_TMCCT, 0, 4);
	cr_expect(!memcmp(la.regs, lb.regs, sizeof(la.regs)),
		  "vcpu %u: lapic", a->index);
	cr_expect(!memcmp(&a->events, &b->events, sizeof(a->events)),
		  "vcpu %u: events", a->index);
	compare_msrs(a, b);
}

static void compare_platform(const struct platform_snapshot *a,
			     const struct platform_snapshot *b)
{
	for (int i = 0; i < 3; i++)
		cr_expect(!memcmp(&a->chips[i], &b->chips[i],
				  sizeof(a->chips[i])),
			  "irqchip %d", i);
	for (int i = 0; i < 3; i++) {
		struct kvm_pit_channel_state ca = a->pit.channels[i],
					     cb = b->pit.channels[i];

		/* KVM_SET_PIT2 reloads each channel's count "now": the
		 * host time of the load, a legitimate difference. */
		ca.count_load_time = cb.count_load_time = 0;
		cr_expect(!memcmp(&ca, &cb, sizeof(ca)), "pit channel %d", i);
	}
	cr_expect_eq(a->pit.flags, b->pit.flags);
	/* kvmclock counts host time from KVM_SET_CLOCK on, paused or not:
	 * B's is later by the time between load and save. */
	cr_expect_geq(b->clock.clock, a->clock.clock);
	cr_expect_lt(b->clock.clock - a->clock.clock, 1000000000ull);
}

static void compare_states(const struct wbuf *wa, const struct wbuf *wb)
{
	struct vm_state_parsed *a = calloc(1, sizeof(*a));
	struct vm_state_parsed *b = calloc(1, sizeof(*b));

	parse(wa, a);
	parse(wb, b);
	cr_assert_eq(a->nr_vcpus, b->nr_vcpus);
	cr_assert_eq(a->mem_bytes, b->mem_bytes);
	for (uint32_t i = 0; i < a->nr_vcpus; i++)
		compare_vcpu(&a->vcpus[i], &b->vcpus[i]);
	compare_platform(&a->platform, &b->platform);
	cr_assert_eq(a->nr_devices, b->nr_devices);
	for (unsigned int i = 0; i < a->nr_devices; i++) {
		const struct rbuf *da = &a->devices[i].block;
		const struct rbuf *db = &b->devices[i].block;

		cr_expect(da->len == db->len &&
				  !memcmp(da->data, db->data, da->len),
			  "device %s", a->devices[i].ops->name);
	}
	vm_state_parsed_free(a);
	vm_state_parsed_free(b);
	free(a);
	free(b);
}

/* The number after "pages_written=" in the guest's last "done" line. */
static uint64_t done_pages_written(const char *path)
{
	char *out = read_file(path, NULL);
	const char *done, *p;
	uint64_t n;

	cr_assert(out, "no serial output in %s", path);
	done = strstr(out, "kvmtrack-guest: done status=0 ");
	cr_assert(done, "no successful done line in:\n%s", out);
	p = strstr(done, "pages_written=");
	cr_assert(p);
	n = strtoull(p + strlen("pages_written="), NULL, 10);
	free(out);
	return n;
}

Test(vm_state, migrate_in_process, .timeout = 60)
{
	struct runner a = { 0 }, b = { 0 };
	struct wbuf wa, wb;
	uint64_t a_pages, b_pages, t0, save_ns, load_ns;
	char serial[96], err[256] = "";
	struct rbuf r;

	create_vm(&a, 2, "none", true);
	start_vm(&a);
	usleep(500000);
	cr_assert_eq(vm_pause(a.vm), 0);
	a_pages = reported_pages(a.vm);
	cr_assert_gt(a_pages, 0, "the guest reported no progress in 0.5 s");

	wbuf_init(&wa);
	t0 = now_ns();
	cr_assert_eq(vm_state_save(a.vm, &wa), 0);
	save_ns = now_ns() - t0;

	snprintf(serial, sizeof(serial), "file:/tmp/kvmtrack-vmstate-%d.out",
		 getpid());
	create_vm(&b, 2, serial, false);
	copy_memory(b.vm, a.vm);
	rbuf_init(&r, wa.data, wa.len);
	t0 = now_ns();
	cr_assert_eq(vm_state_load(b.vm, &r, err, sizeof(err)), 0, "%s", err);
	load_ns = now_ns() - t0;
	cr_expect_eq(rbuf_left(&r), 0);

	wbuf_init(&wb);
	cr_assert_eq(vm_state_save(b.vm, &wb), 0);
	compare_states(&wa, &wb);
	cr_log_info("vm_state: %zu bytes for 2 vCPUs; save %.1f us, load %.1f us (%.1f / %.1f us per vCPU)",
		    wa.len, save_ns / 1e3, load_ns / 1e3, save_ns / 2e3,
		    load_ns / 2e3);
	fprintf(stderr,
		"vm_state: %zu bytes for 2 vCPUs; save %.1f us, load %.1f us (%.1f / %.1f us per vCPU)\n",
		wa.len, save_ns / 1e3, load_ns / 1e3, save_ns / 2e3,
		load_ns / 2e3);

	vm_request_stop(a.vm, VM_STOP_QUIT, 0, "migrated");
	pthread_join(a.thread, NULL);
	vm_destroy(a.vm);

	start_vm(&b);
	pthread_join(b.thread, NULL);
	vm_destroy(b.vm);
	cr_expect_eq(b.status, 0, "guest in B exited with %d", b.status);
	b_pages = done_pages_written(serial + 5);
	cr_expect_gt(b_pages, a_pages, "B wrote no more than A had");
	fprintf(stderr, "vm_state: A had reported %llu pages written, B's guest ended with %llu\n",
		(unsigned long long)a_pages, (unsigned long long)b_pages);
	unlink(serial + 5);
	wbuf_free(&wa);
	wbuf_free(&wb);
}

/* CPU time of all this process's threads. */
static uint64_t process_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * A paused VM's vCPU threads sleep, and wake for the resume. A paused
 * 2-vCPU VM once kept both threads busy, each one's parking waking the
 * other, which on a destination took two CPUs for a whole incoming
 * migration.
 */
Test(vm_state, paused_vcpus_sleep_and_resume, .timeout = 60)
{
	struct runner a = { 0 };
	uint64_t cpu0, t0, cpu, wall, pages;

	create_vm(&a, 2, "none", true);
	start_vm(&a);
	usleep(300000);
	cr_assert_eq(vm_pause(a.vm), 0);
	pages = reported_pages(a.vm);
	cpu0 = process_cpu_ns();
	t0 = now_ns();
	usleep(500000);
	cpu = process_cpu_ns() - cpu0;
	wall = now_ns() - t0;
	cr_expect_lt(cpu, wall / 10,
		     "paused, the VM's threads used %.1f ms of CPU in %.1f ms",
		     cpu / 1e6, wall / 1e6);
	cr_assert_eq(vm_resume(a.vm), 0);
	for (int i = 0; i < 100 && reported_pages(a.vm) <= pages; i++)
		usleep(50000);
	cr_expect_gt(reported_pages(a.vm), pages,
		     "the guest made no progress after the resume");
	vm_request_stop(a.vm, VM_STOP_QUIT, 0, "done");
	pthread_join(a.thread, NULL);
	vm_destroy(a.vm);
}

/* --- cost ------------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#define COST_SAVES 21
#define COST_LOADS 7

/* Medians of repeated saves of one paused guest and of loads into fresh
 * VMs; the per-save MSR probe is timed on its own. Logged, not judged:
 * the machines are shared and noisy. */
Test(vm_state, save_and_load_cost, .timeout = 60)
{
	uint64_t save_ns[COST_SAVES], load_ns[COST_LOADS], t0;
	struct runner a = { 0 };
	struct wbuf w;
	char err[256] = "";

	create_vm(&a, 2, "none", true);
	start_vm(&a);
	usleep(300000);
	cr_assert_eq(vm_pause(a.vm), 0);
	wbuf_init(&w);
	for (int i = 0; i < COST_SAVES; i++) {
		wbuf_reset(&w);
		t0 = now_ns();
		cr_assert_eq(vm_state_save(a.vm, &w), 0);
		save_ns[i] = now_ns() - t0;
	}
	for (int i = 0; i < COST_LOADS; i++) {
		struct runner b = { 0 };
		struct rbuf r;

		create_vm(&b, 2, "none", false);
		copy_memory(b.vm, a.vm);
		rbuf_init(&r, w.data, w.len);
		t0 = now_ns();
		cr_assert_eq(vm_state_load(b.vm, &r, err, sizeof(err)), 0,
			     "%s", err);
		load_ns[i] = now_ns() - t0;
		vm_destroy(b.vm);
	}
	qsort(save_ns, COST_SAVES, sizeof(save_ns[0]), cmp_u64);
	qsort(load_ns, COST_LOADS, sizeof(load_ns[0]), cmp_u64);
	fprintf(stderr,
		"vm_state cost, 2 vCPUs, %zu bytes: save median %.1f us (%.1f per vCPU), load median %.1f us (%.1f per vCPU)\n",
		w.len, save_ns[COST_SAVES / 2] / 1e3,
		save_ns[COST_SAVES / 2] / 2e3, load_ns[COST_LOADS / 2] / 1e3,
		load_ns[COST_LOADS / 2] / 2e3);
	vm_request_stop(a.vm, VM_STOP_QUIT, 0, "done");
	pthread_join(a.thread, NULL);
	vm_destroy(a.vm);
	wbuf_free(&w);
}

/* --- malformed streams ------------------------------------------------------ */

#define MAX_SECS 32

struct sec {
	char name[VM_STATE_NAME_MAX];
	uint32_t version;
	const uint8_t *data;
	uint32_t len;
};

/* Splits a valid stream into its sections. */
static unsigned int split(const struct wbuf *w, struct sec *secs)
{
	struct rbuf r;
	unsigned int n = 0;

	rbuf_init(&r, w->data, w->len);
	while (rbuf_left(&r)) {
		struct sec *s = &secs[n++];
		struct rbuf b;

		cr_assert_leq(n, MAX_SECS);
		rbuf_get_str(&r, s->name, sizeof(s->name));
		s->version = rbuf_get_u32(&r);
		b = rbuf_get_block(&r);
		cr_assert_eq(r.err, 0);
		s->data = b.data;
		s->len = (uint32_t)b.len;
	}
	return n;
}

static unsigned int find(const struct sec *secs, unsigned int n,
			 const char *name)
{
	for (unsigned int i = 0; i < n; i++)
		if (!strcmp(secs[i].name, name))
			return i;
	cr_assert_fail("no section %s", name);
	return 0;
}

static void emit(struct wbuf *w, const struct sec *s)
{
	size_t at;

	wbuf_put_str(w, s->name);
	wbuf_put_u32(w, s->version);
	at = wbuf_begin_len(w);
	wbuf_put_bytes(w, s->data, s->len);
	wbuf_end_len(w, at);
}

/* Re-frames secs, skipping `drop` and emitting `dup` twice (-1: none). */
static void join(struct wbuf *w, const struct sec *secs, unsigned int n,
		 int drop, int dup)
{
	wbuf_reset(w);
	for (unsigned int i = 0; i < n; i++) {
		if ((int)i == drop)
			continue;
		emit(w, &secs[i]);
		if ((int)i == dup)
			emit(w, &secs[i]);
	}
}

/* Loading data must fail with code and an error containing needle. */
static void expect_refused(struct vm *vm, const void *data, size_t len,
			   int code, const char *needle, const char *what)
{
	char err[256] = "";
	struct rbuf r;
	int ret;

	rbuf_init(&r, data, len);
	ret = vm_state_load(vm, &r, err, sizeof(err));
	cr_expect_eq(ret, code, "%s: got %d (%s), want %d", what, ret, err,
		     code);
	cr_expect(strstr(err, needle), "%s: message '%s' lacks '%s'", what,
		  err, needle);
	cr_log_info("%s: %s", what, err);
}

struct bad_fixture {
	struct runner vm;
	struct wbuf good, bad;
	struct sec secs[MAX_SECS];
	unsigned int n;
};

/* A fresh 2-vCPU VM and its own state as the valid stream. Streams that
 * fail to parse load nothing, so the VM can take one after another. */
static void bad_setup(struct bad_fixture *f)
{
	memset(f, 0, sizeof(*f));
	create_vm(&f->vm, 2, "none", false);
	wbuf_init(&f->good);
	wbuf_init(&f->bad);
	cr_assert_eq(vm_state_save(f->vm.vm, &f->good), 0);
	f->n = split(&f->good, f->secs);
}

static void bad_teardown(struct bad_fixture *f)
{
	vm_destroy(f->vm.vm);
	wbuf_free(&f->good);
	wbuf_free(&f->bad);
}

Test(vm_state, truncated_streams_are_refused)
{
	struct bad_fixture f;
	const size_t cuts[] = { 0, 1, 4, 11, 19, 40, 500, 5000 };

	bad_setup(&f);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		char what[32];

		snprintf(what, sizeof(what), "cut at %zu", cuts[i]);
		expect_refused(f.vm.vm, f.good.data, cuts[i], -EBADMSG,
			       "truncated", what);
	}
	expect_refused(f.vm.vm, f.good.data, f.good.len - 1, -EBADMSG,
		       "truncated", "last byte missing");
	bad_teardown(&f);
}

Test(vm_state, bad_names_versions_and_counts_are_refused)
{
	struct bad_fixture f;
	struct runner one = { 0 };
	struct sec saved;
	unsigned int i;

	bad_setup(&f);
	i = find(f.secs, f.n, "pit");
	saved = f.secs[i];
	snprintf(f.secs[i].name, sizeof(f.secs[i].name), "pot");
	join(&f.bad, f.secs, f.n, -1, -1);
	expect_refused(f.vm.vm, f.bad.data, f.bad.len, -EINVAL,
		       "unknown section 'pot'", "renamed section");
	f.secs[i] = saved;

	f.secs[i].version = 2;
	join(&f.bad, f.secs, f.n, -1, -1);
	expect_refused(f.vm.vm, f.bad.data, f.bad.len, -EINVAL,
		       "section 'pit': version 2", "pit version");
	f.secs[i] = saved;

	i = find(f.secs, f.n, "device:uart16550");
	f.secs[i].version = 7;
	join(&f.bad, f.secs, f.n, -1, -1);
	expect_refused(f.vm.vm, f.bad.data, f.bad.len, -EINVAL,
		       "section 'device:uart16550': version 7",
		       "device version");
	f.secs[i].version = 1;

	snprintf(f.secs[i].name, sizeof(f.secs[i].name), "device:floppy");
	join(&f.bad, f.secs, f.n, -1, -1);
	expect_refused(f.vm.vm, f.bad.data, f.bad.len, -EINVAL,
		       "device:floppy", "unknown device");
	snprintf(f.secs[i].name, sizeof(f.secs[i].name), "device:uart16550");

	join(&f.bad, f.secs, f.n, (int)find(f.secs, f.n, "clock"), -1);
	expect_refused(f.vm.vm, f.bad.data, f.bad.len, -EINVAL,
		       "section 'clock' missing", "missing section");
	join(&f.bad, f.secs, f.n, -1, (int)find(f.secs, f.n, "vcpu"));
	expect_refused(f.vm.vm, f.bad.data, f.bad.len, -EINVAL,
		       "section 'vcpu': index 0 appears twice", "vCPU twice");
	join(&f.bad, f.secs, f.n, (int)find(f.secs, f.n, "machine"), -1);
	expect_refused(f.vm.vm, f.bad.data, f.bad.len, -EINVAL,
		       "before section 'machine'", "no machine section");

	/* One byte more in a section than its fields. */
	i = find(f.secs, f.n, "irqchip");
	{
		uint8_t longer[1024];

		cr_assert_lt(f.secs[i].len, sizeof(longer));
		memcpy(longer, f.secs[i].data, f.secs[i].len);
		longer[f.secs[i].len] = 0;
		f.secs[i].data = longer;
		f.secs[i].len++;
		join(&f.bad, f.secs, f.n, -1, -1);
		expect_refused(f.vm.vm, f.bad.data, f.bad.len, -EBADMSG,
			       "section 'irqchip': 1 bytes left over",
			       "long section");
	}

	/* A 2-vCPU stream into a 1-vCPU VM. */
	create_vm(&one, 1, "none", false);
	expect_refused(one.vm, f.good.data, f.good.len, -EINVAL,
		       "vCPU count mismatch: the stream has 2, this VM 1",
		       "vCPU count");
	vm_destroy(one.vm);
	bad_teardown(&f);
}

/* Values a device cannot hold are refused by its own hook, with its name;
 * the valid stream then loads. Each into a VM of its own (the vCPUs are
 * loaded before the devices). */
Test(vm_state, device_values_are_checked_and_a_good_stream_loads)
{
	struct bad_fixture f;
	struct runner fresh = { 0 };
	uint8_t uart[64];
	unsigned int i;
	char err[256] = "";
	struct rbuf r;

	bad_setup(&f);
	i = find(f.secs, f.n, "device:uart16550");
	cr_assert_lt(f.secs[i].len, sizeof(uart));
	memcpy(uart, f.secs[i].data, f.secs[i].len);
	uart[11] = 17; /* rx_count: more than the 16-byte FIFO */
	f.secs[i].data = uart;
	join(&f.bad, f.secs, f.n, -1, -1);
	expect_refused(f.vm.vm, f.bad.data, f.bad.len, -EINVAL,
		       "section 'device:uart16550': uart: impossible rx_count",
		       "uart rx_count");

	create_vm(&fresh, 2, "none", false);
	rbuf_init(&r, f.good.data, f.good.len);
	cr_expect_eq(vm_state_load(fresh.vm, &r, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(rbuf_left(&r), 0);
	vm_destroy(fresh.vm);
	bad_teardown(&f);
}
