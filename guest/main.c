// SPDX-License-Identifier: MIT
/*
 * CPL3 entry of every CPU (entry.S irets here). The boot CPU discovers the
 * machine, reads the command line, waits for the others and starts the
 * workload; secondary CPUs announce themselves and join it.
 */
#include <stdint.h>

#include "guest/abi/testdev.h"
#include "guest/alias.h"
#include "guest/config.h"
#include "guest/lib/compiler.h"
#include "guest/lib/entry.h"
#include "guest/lib/exit.h"
#include "guest/lib/machine.h"
#include "guest/lib/printf.h"
#include "guest/lib/serial.h"
#include "guest/lib/testdev.h"
#include "guest/lib/tsc.h"
#include "guest/lib/x86.h"
#include "guest/stamp.h"
#include "guest/workload.h"

#define GUEST_VERSION "0.1"
#define AP_WAIT_MS 2000
#define TSC_KHZ_FALLBACK 2000000

/* Secondary CPUs that reached CPL3; each one's count is its slot. */
static uint32_t aps_online;

static __noreturn void ap_main(uint32_t cpu)
{
	uint32_t slot = __atomic_add_fetch(&aps_online, 1, __ATOMIC_ACQ_REL);

	workload_run(cpu, slot);
	/* CPU 0 ends the VM; stay out of its way. */
	if (config.ap_halt)
		sys_halt();
	for (;;)
		cpu_relax();
}

static void setup_tsc(void)
{
	const char *src = "device tree";

	if (!machine.tsc_khz) {
		machine.tsc_khz = tsc_calibrate_pit();
		src = "pit";
	}
	if (machine.tsc_khz < 1000) {
		printf("kvmtrack-guest: tsc calibration failed (%lu kHz), assuming %u kHz\n",
		       machine.tsc_khz, TSC_KHZ_FALLBACK);
		machine.tsc_khz = TSC_KHZ_FALLBACK;
		src = "fallback";
	}
	printf("kvmtrack-guest: tsc %lu kHz (%s)\n", machine.tsc_khz, src);
}

/* Returns how many CPUs (this one included) are up. */
static uint32_t wait_for_aps(void)
{
	uint64_t deadline = rdtsc() + ms_to_tsc(AP_WAIT_MS);
	uint32_t want = machine.nr_cpus - 1, up;

	while ((up = __atomic_load_n(&aps_online, __ATOMIC_ACQUIRE)) < want &&
	       rdtsc() < deadline)
		cpu_relax();
	/* Late arrivals get slots past this count and never write. */
	printf("kvmtrack-guest: cpus %u up of %u\n", up + 1, machine.nr_cpus);
	return up + 1;
}

void user_main(uint32_t cpu)
{
	uint32_t nr_up, nr_writers;

	if (cpu != 0)
		ap_main(cpu);

	machine_discover();
	serial_init(machine.serial_port);
	printf("kvmtrack-guest " GUEST_VERSION ": cmdline '%s'\n",
	       machine.cmdline);
	config_parse(machine.cmdline);
	if (config.debugexit && !machine.debug_exit_port)
		machine.debug_exit_port = 0x501;
	setup_tsc();
	machine_print();
	nr_up = wait_for_aps();
	nr_writers = MIN(config.vcpus, nr_up);
	if (nr_writers != config.vcpus) {
		printf("kvmtrack-guest: vcpus=%u capped to %u\n", config.vcpus,
		       nr_writers);
		config.vcpus = nr_writers;
	}
	testdev_probe();
	stamp_layout(nr_writers);
	config_print();
	testdev_hello(nr_up, config.workload, config.wss_bytes, ws_base_gpa);
	if (config.crash)
		asm volatile("ud2");
	if (config.workload == TESTDEV_WL_ALIAS)
		alias_workload();
	workload_start(nr_up, nr_writers);
	workload_run(0, 0);
	workload_finish();
}
