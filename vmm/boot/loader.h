/* SPDX-License-Identifier: MIT */
/*
 * Image loaders: read a guest image, recognise it by content, place it in
 * guest RAM and say how it is entered. Errors name the image and the cause.
 */
#ifndef KVMTRACK_LOADER_H
#define KVMTRACK_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/boot/plan.h"

struct guest_mem;

/*
 * Loads the image at path into mem. Returns 0 and fills plan, or -errno
 * with a message (err) such as "guest.elf: not an ELF image (bad magic)".
 */
int loader_load(struct guest_mem *mem, const char *path,
		struct boot_plan *plan, char *err, size_t err_len);

#endif
