/* SPDX-License-Identifier: MIT */
/*
 * The device registry: every device kvmtrack builds is one entry of
 * device_table[]. vm.c creates them in table order, lets each add its node
 * to the machine's device tree, and destroys them in reverse order.
 */
#ifndef KVMTRACK_DEVICES_REGISTRY_H
#define KVMTRACK_DEVICES_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct jw;
struct wbuf;
struct rbuf;

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

	/*
	 * Optional migration state (migrate/vm_state.c), both hooks or
	 * neither. save appends the device's state, field by field, in
	 * format state_version, with the VM paused; returns 0 or -errno.
	 * load reads a block that save wrote in format `version` (never
	 * newer than state_version) into a device of a VM that has not run
	 * yet; it checks every value and returns 0, or -EBADMSG/-EINVAL
	 * with the field named in err. A device without hooks has no state
	 * worth moving.
	 */
	uint32_t state_version;
	int (*save)(void *state, struct wbuf *w);
	int (*load)(void *state, struct rbuf *r, uint32_t version, char *err,
		    size_t err_len);
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
