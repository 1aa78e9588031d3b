// SPDX-License-Identifier: MIT
/*
 * What the guest runs on: from kvmtrack's device tree when there is one,
 * else from the PVH start info alone (QEMU), with PC defaults.
 */
#include "guest/lib/machine.h"

#include "guest/lib/compiler.h"
#include "guest/lib/fdt.h"
#include "guest/lib/layout.h"
#include "guest/lib/printf.h"
#include "guest/lib/sizes.h"
#include "guest/lib/string.h"

#define HVM_START_MAGIC 0x336ec578
#define E820_RAM 1
#define FDT_MAGIC_BE 0xd00dfeed
#define FDT_MAX_BYTES (1u << 20)
#define DEFAULT_SERIAL_PORT 0x3f8

/* The PVH boot ABI (Xen's arch-x86/hvm/start_info.h), version 1. */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

struct machine machine;
uint64_t boot_info_gpa;

static void add_range(struct ram_range *r, uint32_t *nr, uint64_t gpa,
		      uint64_t bytes)
{
	if (*nr < MAX_RAM_RANGES && bytes)
		r[(*nr)++] = (struct ram_range){ .gpa = gpa, .bytes = bytes };
}

static void reserve(uint64_t gpa, uint64_t bytes)
{
	add_range(machine.reserved, &machine.nr_reserved, gpa, bytes);
}

static const void *find_dtb(const struct hvm_start_info *si)
{
	const struct hvm_modlist_entry *m;
	const char *cmd;
	uint32_t i;

	if (!si->modlist_paddr)
		return NULL;
	m = (const void *)(uintptr_t)si->modlist_paddr;
	for (i = 0; i < si->nr_modules; i++) {
		/* The layout must not place the working set over a module. */
		reserve(m[i].paddr, m[i].size);
		cmd = (const char *)(uintptr_t)m[i].cmdline_paddr;
		if (m[i].size < 4 || m[i].paddr + m[i].size > SZ_4G)
			continue;
		if ((cmd && !strcmp(cmd, "dtb")) ||
		    fdt_be32((const void *)(uintptr_t)m[i].paddr) ==
			    FDT_MAGIC_BE) {
			if (fdt_valid((const void *)(uintptr_t)m[i].paddr,
				      MIN(m[i].size, FDT_MAX_BYTES)))
				return (const void *)(uintptr_t)m[i].paddr;
		}
	}
	return NULL;
}

static void pvh_memmap(const struct hvm_start_info *si)
{
	const struct hvm_memmap_entry *e;
	uint32_t i;

	if (si->version < 1 || !si->memmap_paddr)
		return;
	e = (const void *)(uintptr_t)si->memmap_paddr;
	reserve(si->memmap_paddr, si->memmap_entries * sizeof(*e));
	for (i = 0; i < si->memmap_entries; i++) {
		if (e[i].type == E820_RAM)
			add_range(machine.ram, &machine.nr_ram, e[i].addr,
				  e[i].size);
	}
}

static uint32_t dt_u32(const void *fdt, int node, const char *prop,
		       uint32_t dflt)
{
	uint32_t len;
	const void *v = fdt_getprop(fdt, node, prop, &len);

	return v && len >= 4 ? fdt_be32(v) : dflt;
}

/* Reads one (address, size) cell group; cells of 1 or 2 words. */
static uint64_t read_cells(const uint8_t *p, uint32_t cells)
{
	return cells == 2 ? fdt_be64(p) : fdt_be32(p);
}

static void dt_memory(const void *fdt)
{
	int root = fdt_path_offset(fdt, "/");
	uint32_t ac = dt_u32(fdt, root, "#address-cells", 2);
	uint32_t sc = dt_u32(fdt, root, "#size-cells", 2);
	int node = fdt_path_offset(fdt, "/memory");
	uint32_t len, stride = (ac + sc) * 4, i;
	const uint8_t *reg = fdt_getprop(fdt, node, "reg", &len);

	if (!reg || ac < 1 || ac > 2 || sc < 1 || sc > 2)
		return;
	/* The device tree is authoritative over the E820 map. */
	machine.nr_ram = 0;
	for (i = 0; i + stride <= len; i += stride)
		add_range(machine.ram, &machine.nr_ram,
			  read_cells(reg + i, ac),
			  read_cells(reg + i + ac * 4, sc));
}

static uint16_t dt_ioport(const void *fdt, const char *compat, uint16_t dflt)
{
	int node = fdt_node_compatible(fdt, -1, compat);

	return node < 0 ? dflt : dt_u32(fdt, node, "kvmtrack,ioport", dflt);
}

static void machine_from_dt(const void *fdt)
{
	int chosen = fdt_path_offset(fdt, "/chosen");
	int node;
	uint32_t len, n;
	const char *args = fdt_getprop(fdt, chosen, "bootargs", &len);
	const uint8_t *reg;

	machine.have_dt = true;
	machine.fdt = fdt;
	if (args && len && strnlen(args, len) < len)
		machine.cmdline = args;
	machine.tsc_khz = dt_u32(fdt, chosen, "kvmtrack,tsc-khz", 0);
	dt_memory(fdt);
	n = fdt_count_children(fdt, fdt_path_offset(fdt, "/cpus"), "cpu@");
	machine.nr_cpus = MIN(MAX(n, 1u), (uint32_t)MAX_CPUS);
	machine.serial_port = dt_ioport(fdt, "ns16550a", DEFAULT_SERIAL_PORT);
	machine.debug_exit_port = dt_ioport(fdt, "kvmtrack,debug-exit", 0);
	node = fdt_node_compatible(fdt, -1, "kvmtrack,testdev");
	reg = fdt_getprop(fdt, node, "reg", &len);
	if (reg && len >= 8)
		machine.testdev_gpa = fdt_be64(reg);
}

void machine_discover(void)
{
	const struct hvm_start_info *si =
		(const void *)(uintptr_t)boot_info_gpa;
	const void *fdt = NULL;

	machine.cmdline = "";
	machine.nr_cpus = 1;
	machine.serial_port = DEFAULT_SERIAL_PORT;
	if (!si || si->magic != HVM_START_MAGIC)
		return;
	reserve(boot_info_gpa, sizeof(*si));
	if (si->cmdline_paddr) {
		machine.cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
		reserve(si->cmdline_paddr, strlen(machine.cmdline) + 1);
	}
	if (si->nr_modules)
		reserve(si->modlist_paddr,
			si->nr_modules * sizeof(struct hvm_modlist_entry));
	pvh_memmap(si);
	fdt = find_dtb(si);
	if (fdt)
		machine_from_dt(fdt);
}

void machine_print(void)
{
	uint64_t total = 0;
	uint32_t i;

	for (i = 0; i < machine.nr_ram; i++)
		total += machine.ram[i].bytes;
	printf("kvmtrack-guest: config from %s: %u cpus, %lu MiB RAM in %u ranges, tsc %lu kHz\n",
	       machine.have_dt ? "device tree" : "pvh start info",
	       machine.nr_cpus, total >> 20, machine.nr_ram, machine.tsc_khz);
	printf("kvmtrack-guest: serial %#x, debug-exit %#x, testdev %#lx\n",
	       machine.serial_port, machine.debug_exit_port,
	       machine.testdev_gpa);
}
