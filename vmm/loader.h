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

struct guest_mem;

enum boot_entry_kind {
	BOOT_ENTRY_PVH32, /* 32-bit protected mode, EBX = start_info */
	BOOT_ENTRY_LONG64, /* long mode on kvmtrack's identity map */
};

struct boot_plan {
	enum boot_entry_kind kind;
	uint64_t entry;
	bool has_ap_entry;
	uint32_t ap_entry;
	uint64_t image_start_gpa;
	uint64_t image_end_gpa;
};

/*
 * Loads the image at path into mem. Returns 0 and fills plan, or -errno
 * with a message (err) such as "guest.elf: not an ELF image (bad magic)".
 */
int loader_load(struct guest_mem *mem, const char *path,
		struct boot_plan *plan, char *err, size_t err_len);

#endif
