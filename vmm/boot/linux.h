/* SPDX-License-Identifier: MIT */
/*
 * Booting Linux: loading a bzImage, the initrd, and writing the zero page
 * with its command line and SETUP_DTB entry. PVH kernels (vmlinux) go
 * through the ELF loader and pvh.c; they share the initrd placement here.
 */
#ifndef KVMTRACK_BOOT_LINUX_H
#define KVMTRACK_BOOT_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem;
struct boot_plan;

/* True if buf carries the bzImage boot flag or "HdrS" (then it is one, or
 * a malformed one, which bzimage_load reports). */
bool bzimage_looks_like(const uint8_t *buf, size_t len);

/* Parses the image, loads its protected-mode kernel and fills plan. */
int bzimage_load(struct guest_mem *mem, const char *path, const uint8_t *buf,
		 size_t len, struct boot_plan *plan, char *err,
		 size_t err_len);

/* Where an initrd went, in guest-physical addresses. */
struct initrd_place {
	uint64_t gpa;
	uint64_t size_bytes;
};

/*
 * Loads the initrd at path as high as possible in low RAM: page aligned,
 * ending at or below limit_gpa (the kernel's initrd_addr_max + 1 for a
 * bzImage) and above the kernel (plan's image end). An initrd larger than
 * guest RAM, or one that does not fit there, is refused with a message.
 */
int initrd_load(struct guest_mem *mem, const char *path,
		const struct boot_plan *plan, uint64_t limit_gpa,
		struct initrd_place *out, char *err, size_t err_len);

/*
 * Writes the command line, the SETUP_DTB header in front of the device
 * tree (already at BOOT_FDT_GPA, dtb_bytes long) and the zero page.
 */
int bzimage_write_boot_params(struct guest_mem *mem,
			      const struct boot_plan *plan,
			      const char *cmdline,
			      const struct initrd_place *initrd,
			      uint64_t dtb_bytes, char *err, size_t err_len);

#endif
