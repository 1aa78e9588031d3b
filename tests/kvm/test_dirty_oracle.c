// SPDX-License-Identifier: MIT
/*
 * The dirty-log oracle, after the KVM selftests' dirty_log_test: a real
 * guest (the bundled one, writing stamps into random pages) runs in this
 * process; at each harvest the vCPUs are paused, the log is synced, and
 * every page whose content differs from the snapshot taken at the last
 * harvest must be in the log. Run for every backend, with 1 and 2 vCPUs,
 * and with logging switched off and on again in the middle.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/bench/dirtylog.h"
#include "app/cli.h"
#include "devices/testdev.h"
#include "guest/abi/testdev.h"
#include "vmm/dirty/dirty.h"
#include "vmm/mem/bus.h"
#include "vmm/mem/memory.h"
#include "vmm/vm.h"

#define ROUNDS 6

/*
 * A round lasts until the guest has written this many more pages by its
 * own count (and at least 40 ms): how much changes in a round follows the
 * guest's progress, not the speed of the machine. 12 rounds of 400 random
 * writes over 8192 pages change thousands of pages.
 */
#define ROUND_WRITES 400

struct oracle {
	struct vm *vm;
	struct testdev *td;
	pthread_t runner;
	uint8_t *snapshot[MEM_MAX_REGIONS];
	struct dirty_set set;
	uint64_t changed_total; /* pages seen changed: the test is not vacuous */
	uint64_t missed;
	char name[32];
};

static void *run_vm(void *arg)
{
	vm_run(arg);
	return NULL;
}

static void start_vm(struct oracle *o, const char *backend, const char *cpus,
		     const char *cmdline)
{
	char *argv[] = { "run", "-m", "96M", "-c", (char *)cpus,
			 "--serial", "none", "--dirty-log", (char *)backend,
			 "--cmdline", (char *)cmdline, "guest/kvmtrack-guest.elf",
			 NULL };
	static struct vm_config cfg;
	char err[256];

	cr_assert_eq(cli_parse_run(12, argv, &cfg, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(vm_create(&cfg, &o->vm), 0);
	cr_assert_eq(vm_boot(o->vm, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(pthread_create(&o->runner, NULL, run_vm, o->vm), 0);
	o->td = testdev_of(o->vm);
	cr_assert_not_null(o->td);
	/* Its first report: the guest is in its workload. */
	cr_assert_eq(testdev_wait_reports(o->td, 1, 30000), 0,
		     "the guest never reported");
}

static void stop_vm(struct oracle *o)
{
	vm_request_stop(o->vm, VM_STOP_QUIT, 0, "test done");
	pthread_join(o->runner, NULL);
	vm_destroy(o->vm);
}

static void take_snapshot(struct oracle *o)
{
	const struct guest_mem *mem = vm_mem(o->vm);

	for (unsigned int r = 0; r < mem->nr_regions; r++) {
		if (!o->snapshot[r])
			o->snapshot[r] = malloc(mem->regions[r].size_bytes);
		memcpy(o->snapshot[r], mem->regions[r].hva,
		       mem->regions[r].size_bytes);
	}
}

/* With the vCPUs paused: every changed page must be in the log. */
static void check_round(struct oracle *o)
{
	const struct guest_mem *mem = vm_mem(o->vm);

	cr_assert_eq(dirty_sync(vm_dirty(o->vm), false), 0);
	for (unsigned int r = 0; r < mem->nr_regions; r++) {
		const struct mem_region *region = &mem->regions[r];

		for (uint64_t pg = 0; pg < mem_region_pages(region); pg++) {
			uint64_t off = pg * GUEST_PAGE_BYTES;

			if (!memcmp(region->hva + off, o->snapshot[r] + off,
				    GUEST_PAGE_BYTES))
				continue;
			o->changed_total++;
			if (!dirty_set_test(&o->set, r, pg)) {
				if (o->missed++ < 5)
					cr_log_error("%s: page 0x%llx changed but is not in the log", o->name,
						     (unsigned long long)(region->gpa + off));
			}
		}
	}
}

/* Pages the guest has written so far, by its own reports. */
static uint64_t guest_writes(struct oracle *o)
{
	struct testdev_totals t;

	cr_assert_eq(testdev_totals(o->td, UINT32_MAX, &t), 0);
	return t.interval_pages_written;
}

static void let_guest_write(struct oracle *o)
{
	uint64_t until = guest_writes(o) + ROUND_WRITES;

	usleep(40000);
	for (int waited_ms = 40; guest_writes(o) < until; waited_ms += 10) {
		cr_assert_lt(waited_ms, 30000, "the guest stopped writing");
		usleep(10000);
	}
}

static void harvest_rounds(struct oracle *o, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		let_guest_write(o);
		cr_assert_eq(vm_pause(o->vm), 0);
		check_round(o);
		dirty_set_clear(&o->set);
		take_snapshot(o);
		cr_assert_eq(vm_resume(o->vm), 0);
	}
}

/* Attaching while paused: the snapshot and the log start together. */
static void attach(struct oracle *o)
{
	cr_assert_eq(vm_pause(o->vm), 0);
	cr_assert_eq(dirty_attach(vm_dirty(o->vm), &o->set), 0);
	take_snapshot(o);
	cr_assert_eq(vm_resume(o->vm), 0);
}

static void detach(struct oracle *o)
{
	cr_assert_eq(dirty_detach(vm_dirty(o->vm), &o->set), 0);
	cr_assert(!dirty_tracker_logging(vm_dirty(o->vm)),
		  "logging stays on with no consumer");
}

struct oracle_case {
	char backend[16];
	char cpus[4];
};

static void run_oracle(const struct oracle_case *c)
{
	char cmdline[128];
	struct oracle o;

	memset(&o, 0, sizeof(o));
	snprintf(o.name, sizeof(o.name), "%s x%s", c->backend, c->cpus);
	snprintf(cmdline, sizeof(cmdline),
		 "workload=random wss=32M rate=200000 vcpus=%s report=10",
		 c->cpus);
	start_vm(&o, c->backend, c->cpus, cmdline);
	cr_assert_eq(dirty_set_init(&o.set, vm_mem(o.vm)), 0);
	attach(&o);
	harvest_rounds(&o, ROUNDS);
	/* Off in the middle of the run, then on again. */
	detach(&o);
	usleep(50000);
	attach(&o);
	harvest_rounds(&o, ROUNDS);
	detach(&o);
	stop_vm(&o);
	cr_expect_eq(o.missed, 0, "%llu changed pages were missing from the log",
		     (unsigned long long)o.missed);
	/* 12 rounds of at least 400 writes over 8192 pages: thousands. */
	cr_expect_gt(o.changed_total, 2000, "the guest wrote too little: %llu",
		     (unsigned long long)o.changed_total);
	dirty_set_free(&o.set);
	for (int r = 0; r < MEM_MAX_REGIONS; r++)
		free(o.snapshot[r]);
}

ParameterizedTestParameters(dirty, oracle)
{
	static struct oracle_case cases[] = {
		{ "bitmap", "1" }, { "bitmap", "2" }, { "manual", "1" },
		{ "manual", "2" }, { "ring", "1" },   { "ring", "2" },
		{ "ring:65536", "2" },
		/* Small rings: the vCPUs reset them on RING_FULL, where a
		 * kick used to cut KVM's reset short (kvm.c). */
		{ "ring:256", "1" },  { "ring:256", "2" }, { "ring:1024", "2" },
	};

	return cr_make_param_array(struct oracle_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct oracle_case *c, dirty, oracle, .timeout = 60)
{
	run_oracle(c);
}

/*
 * A page the VMM writes on the guest's behalf (the test device's FILL, as
 * a device doing DMA would) must appear in the log although KVM never saw
 * the write.
 */
Test(dirty, vmm_writes_appear_in_the_log, .timeout = 60)
{
	const uint64_t msg_gpa = 0x3f00000, target_gpa = 0x3f10000;
	struct testdev_fill fill = {
		.hdr = { .type = TESTDEV_MSG_FILL, .len_bytes = sizeof(fill) },
		.gpa = target_gpa, .len_bytes = 4096, .byte = 0xa5,
	};
	uint8_t doorbell[8];
	struct oracle o;
	uint8_t *page;

	memset(&o, 0, sizeof(o));
	start_vm(&o, "manual", "1", "workload=idle");
	cr_assert_eq(dirty_set_init(&o.set, vm_mem(o.vm)), 0);
	cr_assert_eq(guest_mem_write(vm_mem(o.vm), msg_gpa, &fill,
				     sizeof(fill)),
		     0);
	cr_assert_eq(vm_pause(o.vm), 0);
	cr_assert_eq(dirty_attach(vm_dirty(o.vm), &o.set), 0);
	bus_data_put(doorbell, 8, msg_gpa);
	cr_assert_eq(bus_dispatch(vm_bus(o.vm), BUS_MMIO,
				  TESTDEV_MMIO_BASE + TESTDEV_REG_DOORBELL,
				  doorbell, 8, true),
		     0);
	page = guest_mem_hva(vm_mem(o.vm), target_gpa, 4096);
	cr_assert(page && page[0] == 0xa5 && page[4095] == 0xa5,
		  "the test device did not fill the page");
	cr_assert_eq(dirty_sync(vm_dirty(o.vm), false), 0);
	cr_expect(dirty_set_test(&o.set, 0, target_gpa / 4096),
		  "the page the VMM filled is not in the dirty log");
	cr_expect_geq(o.set.vmm_pages, 1);
	/* The message page was written before logging started: not in it. */
	cr_expect(!dirty_set_test(&o.set, 0, msg_gpa / 4096));
	cr_assert_eq(dirty_detach(vm_dirty(o.vm), &o.set), 0);
	cr_assert_eq(vm_resume(o.vm), 0);
	stop_vm(&o);
	dirty_set_free(&o.set);
}
