/* SPDX-License-Identifier: MIT */
/*
 * ELF64 image parsing: program headers and the notes that decide how an
 * image is entered. Pure: works on a buffer, touches no guest memory, so
 * malformed images are unit-tested without /dev/kvm.
 */
#ifndef KVMTRACK_ELF_H
#define KVMTRACK_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 16

/* Xen's PVH entry note: name "Xen", type 18, 32-bit physical entry. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
/* kvmtrack's own note: name "kvmtrack", type 1, 32-bit AP entry address. */
#define KVMTRACK_NOTE_AP_ENTRY32 1

struct elf_segment {
	uint64_t paddr;
	uint64_t file_offset;
	uint64_t file_bytes;
	uint64_t mem_bytes; /* >= file_bytes; the rest is zeroed */
};

struct elf_image {
	uint64_t entry; /* e_entry: 64-bit entry when there is no PVH note */
	bool has_pvh_entry;
	uint32_t pvh_entry; /* XEN_ELFNOTE_PHYS32_ENTRY */
	bool has_ap_entry;
	uint32_t ap_entry; /* KVMTRACK_NOTE_AP_ENTRY32 */
	struct elf_segment segs[ELF_MAX_SEGMENTS]; /* PT_LOAD only */
	unsigned int nr_segs;
	uint64_t lowest_paddr; /* over all PT_LOAD segments */
	uint64_t highest_paddr_end; /* exclusive */
};

/*
 * Parses an ELF64 x86-64 executable held in buf[0..len). Every offset and
 * size is checked against len before use. On error returns -ENOEXEC (not an
 * ELF, wrong class/machine/type) or -EINVAL (malformed, truncated) and
 * writes a one-line reason naming the field into err.
 */
int elf_parse(const void *buf, size_t len, struct elf_image *img, char *err,
	      size_t err_len);

#endif
