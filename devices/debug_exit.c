// SPDX-License-Identifier: MIT
/*
 * The debug-exit port (0x501): a guest write of V stops the VM and kvmtrack
 * exits with status V & 0xff. This is how test guests report pass/fail
 * without a shutdown path of their own.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "lib/log.h"
#include "vmm/mem/bus.h"
#include "vmm/vm.h"

#define DEBUG_EXIT_PORT 0x501
/* Wide enough for a 4-byte write at the base port. */
#define DEBUG_EXIT_PORT_BYTES 4

struct debug_exit {
	struct vm *vm;
	/* No lock: the stop request is the VM's own serialisation point. */
};

static int debug_exit_access(void *opaque, uint64_t offset, uint8_t *data,
			     uint32_t len, bool is_write)
{
	struct debug_exit *dev = opaque;
	uint64_t value;
	char why[64];

	if (!is_write) {
		bus_data_put(data, len, 0);
		return 0;
	}
	/* Only the base port exits; stray byte writes above it do nothing. */
	if (offset != 0)
		return 0;
	value = bus_data_get(data, len);
	snprintf(why, sizeof(why), "guest wrote %llu to the debug-exit port",
		 (unsigned long long)value);
	vm_request_stop(dev->vm, VM_STOP_GUEST_EXIT, (int)(value & 0xff), why);
	return 0;
}

static int debug_exit_init(struct vm *vm, void **state)
{
	struct debug_exit *dev = calloc(1, sizeof(*dev));
	int err;

	if (!dev)
		return -ENOMEM;
	dev->vm = vm;
	err = bus_register(vm_bus(vm), BUS_PIO, DEBUG_EXIT_PORT,
			   DEBUG_EXIT_PORT_BYTES, "debug-exit",
			   debug_exit_access, dev);
	if (err) {
		log_err("debug-exit: cannot claim port 0x%x: %s",
			DEBUG_EXIT_PORT, strerror(-err));
		free(dev);
		return err;
	}
	*state = dev;
	return 0;
}

static int debug_exit_fdt_node(void *state, void *fdt)
{
	int node = fdt_add_subnode(fdt, 0, "debug-exit@501");
	int err = node < 0 ? node : 0;

	if (!err)
		err = fdt_setprop_string(fdt, node, "compatible",
					 "kvmtrack,debug-exit");
	if (!err)
		err = fdt_setprop_u32(fdt, node, "kvmtrack,ioport",
				      DEBUG_EXIT_PORT);
	if (!err)
		return 0;
	log_err("debug-exit: cannot add /debug-exit@501 to the device tree: %s",
		fdt_strerror(err));
	return err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

static void debug_exit_exit(void *state)
{
	free(state);
}

const struct device_ops debug_exit_ops = {
	.name = "debug-exit",
	.init = debug_exit_init,
	.fdt_node = debug_exit_fdt_node,
	.exit = debug_exit_exit,
};
