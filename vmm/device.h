/* SPDX-License-Identifier: MIT */
/*
 * What the machine asks of a device: the interface vmm/ defines and each
 * file of devices/ implements. The machine knows devices only through it
 * and through the list in its configuration (vm_config.devices), so vmm/
 * never includes devices/.
 */
#ifndef KVMTRACK_DEVICE_H
#define KVMTRACK_DEVICE_H

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

#endif
