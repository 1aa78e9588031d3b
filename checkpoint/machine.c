// SPDX-License-Identifier: MIT
/* A checkpoint's machine, read off the VM (see machine.h). */
#include "checkpoint/machine.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint/manifest.h"
#include "lib/wire.h"
#include "migrate/alias_state.h"
#include "vmm/device.h"
#include "vmm/fdt.h"
#include "vmm/vm.h"

void ckpt_machine_devices(const struct vm *vm, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < vm_nr_devices(vm) && at < len; i++) {
		const struct device_ops *ops = vm_device(vm, i)->ops;

		/* Those without state are not in the state stream. */
		if (!ops->save)
			continue;
		at += (size_t)snprintf(buf + at, len - at, "%s%s:%u",
				       at ? " " : "", ops->name,
				       ops->state_version);
	}
}

int ckpt_machine_describe(struct vm *vm, struct ckpt_machine *mc)
{
	struct wbuf w;
	int ret;

	mc->mem_bytes = vm_mem(vm)->ram_bytes;
	mc->nr_cpus = vm_nr_vcpus(vm);
	snprintf(mc->cmdline, sizeof(mc->cmdline), "%s", vm_config(vm)->cmdline);
	ckpt_machine_devices(vm, mc->devices, sizeof(mc->devices));
	ret = vm_build_fdt(vm, mc->fdt, sizeof(mc->fdt));
	if (!ret)
		mc->fdt_bytes = fdt_totalsize(mc->fdt);
	wbuf_init(&w);
	windows_put(vm_mem(vm), &w);
	ret = ret ?: w.err ?: w.len > sizeof(mc->windows) ? -E2BIG : 0;
	if (!ret) {
		memcpy(mc->windows, w.data, w.len);
		mc->windows_bytes = (uint32_t)w.len;
	}
	wbuf_free(&w);
	return ret;
}
