// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the image loaders (vmm/boot/: image_file.c, loader.c,
 * elf.c with its PVH note, bzimage.c and linux.c) through boot_load(),
 * the way `kvmtrack run IMAGE` reads a file, recognises it by content and
 * places it in guest RAM; then what the entry needs that the image
 * decides: the PVH start info, or a bzImage's zero page built from its
 * setup header. The input is the image file, handed over as a memfd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/boot/boot.h"
#include "vmm/boot/linux.h"
#include "vmm/boot/pvh.h"
#include "tests/fuzz/fuzz.h"

/* Guest RAM for every input: what a loader writes is never read back by
 * the next, which parses its own bytes only. */
static struct guest_mem mem;
static int image_fd = -1;

static void setup(void)
{
	image_fd = memfd_create("fuzz-image", 0);
	if (image_fd < 0 || fuzz_mem_create(&mem, FUZZ_MAX_MEM_BYTES))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_config cfg = { .cmdline = "console=ttyS0" };
	struct boot_image img;
	char path[64], err[512];

	if (image_fd < 0)
		setup();
	if (ftruncate(image_fd, 0) ||
	    pwrite(image_fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", image_fd);
	cfg.image_path = path;
	if (boot_load(&mem, &cfg, &img, err, sizeof(err)))
		return 0;
	if (img.plan.kind == BOOT_ENTRY_PVH32)
		pvh_write_start_info(&mem, cfg.cmdline, NULL, 0);
	else if (img.plan.kind == BOOT_ENTRY_BZIMAGE64)
		bzimage_write_boot_params(&mem, &img.plan, cfg.cmdline, NULL,
					  4096, err, sizeof(err));
	return 0;
}
