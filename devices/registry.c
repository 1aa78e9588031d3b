// SPDX-License-Identifier: MIT
/*
 * Every device kvmtrack builds, in creation order. vm.c destroys them in
 * reverse order, so a device may rely on those before it in this table.
 */
#include "devices/registry.h"

#include "devices/devices.h"

const struct device_ops *const device_table[] = {
	&uart16550_ops,
	&debug_exit_ops,
	&testdev_ops,
	/* The PC platform a Linux kernel expects (docs/machine.md). */
	&i8042_ops,
	&cmos_rtc_ops,
	&pci_host_ops,
	&isa_absent_ops,
};

const unsigned int device_table_len =
	sizeof(device_table) / sizeof(device_table[0]);
