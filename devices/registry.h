/* SPDX-License-Identifier: MIT */
/*
 * The device registry: every device kvmtrack builds is one entry of
 * device_table[]. vm.c creates them in table order, lets each add its node
 * to the machine's device tree, and destroys them in reverse order.
 */
#ifndef KVMTRACK_DEVICES_REGISTRY_H
#define KVMTRACK_DEVICES_REGISTRY_H

struct vm;
struct jw;

struct device_ops {
	const char *name;
	/* Registers bus regions; returns 0 and *state, or -errno. */
	int (*init)(struct vm *vm, void **state);
	/* Adds the device's node under the root of fdt (libfdt sequential-write
	 * is not used: fdt is an open tree with room, use fdt_add_subnode). */
	int (*fdt_node)(void *state, void *fdt);
	/* Optional: writes members of a JSON object describing live state. */
	void (*stats)(void *state, struct jw *w);
	/* Stops threads and frees the state. */
	void (*exit)(void *state);
};

extern const struct device_ops uart16550_ops;
extern const struct device_ops debug_exit_ops;
extern const struct device_ops testdev_ops;
extern const struct device_ops i8042_ops;
extern const struct device_ops cmos_rtc_ops;
extern const struct device_ops reset_cf9_ops;
extern const struct device_ops isa_absent_ops;

extern const struct device_ops *const device_table[];
extern const unsigned int device_table_len;

#endif
