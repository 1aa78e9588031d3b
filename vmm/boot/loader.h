/* SPDX-License-Identifier: MIT */
/*
 * Image loaders: read a guest image, recognise it by content, place it in
 * guest RAM and say how it is entered. Errors name the image and the cause.
 */
#ifndef KVMTRACK_LOADER_H
#define KVMTRACK_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/boot/bzimage.h"

struct guest_mem;

enum boot_entry_kind {
	BOOT_ENTRY_PVH32, /* 32-bit protected mode, EBX = start_info */
	BOOT_ENTRY_LONG64, /* long mode on kvmtrack's identity map */
	BOOT_ENTRY_BZIMAGE64, /* Linux 64-bit boot protocol, RSI = zero page */
};

struct boot_plan {
	enum boot_entry_kind kind;
	uint64_t entry;
	bool has_ap_entry;
	uint32_t ap_entry;
	uint64_t image_start_gpa;
	uint64_t image_end_gpa;
	struct bzimage_info bz; /* BOOT_ENTRY_BZIMAGE64 only */
};

/*
 * Loads the image at path into mem. Returns 0 and fills plan, or -errno
 * with a message (err) such as "guest.elf: not an ELF image (bad magic)".
 */
int loader_load(struct guest_mem *mem, const char *path,
		struct boot_plan *plan, char *err, size_t err_len);

/*
 * Reads the whole regular file at path into a malloc'ed buffer, refusing
 * files larger than max_bytes ("what" names the file's role in messages:
 * "image", "initrd"). Returns 0 or -errno with err set.
 */
int loader_read_file(const char *path, const char *what, uint64_t max_bytes,
		     void **buf_out, size_t *len_out, char *err,
		     size_t err_len);

#endif
