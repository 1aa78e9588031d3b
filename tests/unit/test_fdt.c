// SPDX-License-Identifier: MIT
/* The device tree kvmtrack builds for a given machine, read back with libfdt. */
#include <criterion/criterion.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "vmm/fdt.h"
#include "vmm/mem/memory.h"
#include "vmm/vm_config.h"

static uint8_t buf[65536];

static void build(uint64_t mem_bytes, unsigned int cpus, const char *cmd)
{
	static struct guest_mem mem;
	static struct vm_config cfg;
	struct machine_desc desc = { .cfg = &cfg, .mem = &mem,
				     .tsc_khz = 2600000 };

	cr_assert_eq(guest_mem_plan(&mem, mem_bytes), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.mem_bytes = mem_bytes;
	cfg.nr_cpus = cpus;
	cfg.cmdline = cmd;
	cr_assert_eq(fdt_build_machine(&desc, buf, sizeof(buf)), 0);
	cr_assert_eq(fdt_check_header(buf), 0);
}

static uint64_t reg_cell(int node, int idx)
{
	int len;
	const fdt64_t *reg = fdt_getprop(buf, node, "reg", &len);

	cr_assert_not_null(reg);
	cr_assert(len >= (int)sizeof(*reg) * (idx + 1));
	return fdt64_to_cpu(reg[idx]);
}

Test(fdt, root_chosen_and_memory_for_small_machine)
{
	int chosen, memory, len;
	const char *s;

	build(256ull << 20, 1, "workload=random wss=8M");
	cr_expect_str_eq(fdt_getprop(buf, 0, "compatible", NULL),
			 "kvmtrack,pc");
	chosen = fdt_path_offset(buf, "/chosen");
	cr_assert_geq(chosen, 0);
	s = fdt_getprop(buf, chosen, "bootargs", &len);
	cr_expect_str_eq(s, "workload=random wss=8M");
	cr_expect_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(
			     buf, chosen, "kvmtrack,tsc-khz", NULL)),
		     2600000);
	memory = fdt_path_offset(buf, "/memory@0");
	cr_assert_geq(memory, 0);
	cr_expect_str_eq(fdt_getprop(buf, memory, "device_type", NULL),
			 "memory");
	fdt_getprop(buf, memory, "reg", &len);
	cr_expect_eq(len, 16, "one (gpa, size) pair");
	cr_expect_eq(reg_cell(memory, 0), 0);
	cr_expect_eq(reg_cell(memory, 1), 256ull << 20);
}

Test(fdt, memory_above_the_hole_and_slots)
{
	int memory, slot1;

	build(4ull << 30, 2, "");
	memory = fdt_path_offset(buf, "/memory@0");
	cr_expect_eq(reg_cell(memory, 0), 0);
	cr_expect_eq(reg_cell(memory, 1), 3ull << 30);
	cr_expect_eq(reg_cell(memory, 2), 4ull << 30);
	cr_expect_eq(reg_cell(memory, 3), 1ull << 30);
	cr_expect_geq(fdt_path_offset(buf, "/memslots/slot@0"), 0);
	slot1 = fdt_path_offset(buf, "/memslots/slot@1");
	cr_assert_geq(slot1, 0);
	cr_expect_eq(reg_cell(slot1, 0), 4ull << 30);
	cr_expect_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(
			     buf, slot1, "kvmtrack,slot", NULL)),
		     1);
}

Test(fdt, one_node_per_cpu_in_order)
{
	int cpus, node, n = 0;

	build(64ull << 20, 4, "");
	cpus = fdt_path_offset(buf, "/cpus");
	cr_assert_geq(cpus, 0);
	fdt_for_each_subnode(node, buf, cpus) {
		char want[16];

		snprintf(want, sizeof(want), "cpu@%d", n);
		cr_expect_str_eq(fdt_get_name(buf, node, NULL), want);
		cr_expect_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(
				     buf, node, "reg", NULL)),
			     (uint32_t)n);
		n++;
	}
	cr_expect_eq(n, 4);
}
