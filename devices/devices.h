/* SPDX-License-Identifier: MIT */
/*
 * The devices kvmtrack implements, one per file of devices/. Each file
 * defines its ops; registry.c lists them. A header of its own so that a
 * device file does not include the registry that points at it.
 */
#ifndef KVMTRACK_DEVICES_H
#define KVMTRACK_DEVICES_H

#include "vmm/device.h"

extern const struct device_ops uart16550_ops;
extern const struct device_ops debug_exit_ops;
extern const struct device_ops testdev_ops;
extern const struct device_ops i8042_ops;
extern const struct device_ops cmos_rtc_ops;
extern const struct device_ops pci_host_ops;
extern const struct device_ops isa_absent_ops;

#endif
