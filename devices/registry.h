/* SPDX-License-Identifier: MIT */
/*
 * The device registry: every device kvmtrack builds is one entry of
 * device_table[], the PC that `kvmtrack run` gives a guest. The command
 * line puts the table in the VM's configuration; vm.c creates the devices
 * in table order, lets each add its node to the machine's device tree, and
 * destroys them in reverse order.
 */
#ifndef KVMTRACK_DEVICES_REGISTRY_H
#define KVMTRACK_DEVICES_REGISTRY_H

#include "vmm/device.h"

extern const struct device_ops *const device_table[];
extern const unsigned int device_table_len;

#endif
