// SPDX-License-Identifier: MIT
/* Builds the machine's device tree (see fdt.h and docs/machine.md). */
#include "vmm/fdt.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>

#include "vmm/alias/alias.h"
#include "vmm/device.h"
#include "vmm/mem/memory.h"
#include "vmm/vm_config.h"

/* libfdt returns -FDT_ERR_*; kvmtrack speaks -errno. */
static int fdt_errno(int err)
{
	if (err >= 0)
		return err;
	return err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

static int add_reg_pair(void *fdt, int node, uint64_t gpa, uint64_t size)
{
	int ret = fdt_appendprop_u64(fdt, node, "reg", gpa);

	return ret ?: fdt_appendprop_u64(fdt, node, "reg", size);
}

static int add_memory(void *fdt, const struct guest_mem *mem)
{
	int node = fdt_add_subnode(fdt, 0, "memory@0");
	int ret;

	if (node < 0)
		return node;
	ret = fdt_setprop_string(fdt, node, "device_type", "memory");
	for (unsigned int i = 0; i < mem->nr_regions && !ret; i++)
		ret = add_reg_pair(fdt, node, mem->regions[i].gpa,
				   mem->regions[i].size_bytes);
	return ret;
}

static int add_memslots(void *fdt, const struct guest_mem *mem)
{
	int parent = fdt_add_subnode(fdt, 0, "memslots");
	int ret = parent < 0 ? parent : 0;
	char name[32];

	for (unsigned int i = 0; i < mem->nr_slots && !ret; i++) {
		const struct mem_slot *s = &mem->slots[i];
		int node;

		snprintf(name, sizeof(name), "slot@%u", s->id);
		node = fdt_add_subnode(fdt, parent, name);
		if (node < 0)
			return node;
		ret = add_reg_pair(fdt, node, s->gpa, s->size_bytes);
		ret = ret ?: fdt_setprop_u32(fdt, node, "kvmtrack,slot", s->id);
		ret = ret ?: fdt_setprop_u32(fdt, node, "kvmtrack,flags",
					     s->flags);
	}
	return ret;
}

static int add_cpus(void *fdt, unsigned int nr_cpus)
{
	int parent = fdt_add_subnode(fdt, 0, "cpus");
	int ret = parent < 0 ? parent : 0;
	char name[16];

	ret = ret ?: fdt_setprop_u32(fdt, parent, "#address-cells", 1);
	ret = ret ?: fdt_setprop_u32(fdt, parent, "#size-cells", 0);
	/* libfdt adds subnodes first-in-front: add in reverse for order. */
	for (unsigned int i = nr_cpus; i-- > 0 && !ret;) {
		int node;

		snprintf(name, sizeof(name), "cpu@%u", i);
		node = fdt_add_subnode(fdt, parent, name);
		if (node < 0)
			return node;
		ret = fdt_setprop_string(fdt, node, "device_type", "cpu");
		ret = ret ?: fdt_setprop_u32(fdt, node, "reg", i);
	}
	return ret;
}

static int add_chosen(void *fdt, const struct vm_config *cfg,
		      uint32_t tsc_khz)
{
	int node = fdt_add_subnode(fdt, 0, "chosen");
	int ret = node < 0 ? node : 0;

	ret = ret ?: fdt_setprop_string(fdt, node, "bootargs", cfg->cmdline);
	ret = ret ?: fdt_setprop_u32(fdt, node, "kvmtrack,tsc-khz", tsc_khz);
	return ret;
}

static int add_root(void *fdt)
{
	int ret = fdt_setprop_string(fdt, 0, "compatible", "kvmtrack,pc");

	ret = ret ?: fdt_setprop_string(fdt, 0, "model", "kvmtrack");
	ret = ret ?: fdt_setprop_u32(fdt, 0, "#address-cells", 2);
	ret = ret ?: fdt_setprop_u32(fdt, 0, "#size-cells", 2);
	return ret;
}

int fdt_build_machine(const struct machine_desc *desc, void *buf, size_t len)
{
	int ret = fdt_create_empty_tree(buf, (int)len);

	ret = ret ?: add_root(buf);
	/* Devices first: nodes added later appear earlier in the tree. */
	for (unsigned int i = desc->nr_devices; i-- > 0 && !ret;) {
		const struct fdt_device *d = &desc->devices[i];

		if (d->ops->fdt_node)
			ret = d->ops->fdt_node(d->state, buf);
	}
	ret = ret ?: alias_fdt_nodes(desc->mem, buf);
	ret = ret ?: add_memslots(buf, desc->mem);
	ret = ret ?: add_cpus(buf, desc->cfg->nr_cpus);
	ret = ret ?: add_memory(buf, desc->mem);
	ret = ret ?: add_chosen(buf, desc->cfg, desc->tsc_khz);
	ret = ret ?: fdt_pack(buf);
	return fdt_errno(ret);
}
