/* SPDX-License-Identifier: MIT */
/* Where kvmtrack puts boot data in guest RAM (docs/machine.md). */
#ifndef KVMTRACK_BOOT_LAYOUT_H
#define KVMTRACK_BOOT_LAYOUT_H

#define BOOT_AREA_START_GPA 0x5000ull
#define BOOT_GDT_GPA 0x5000ull
#define BOOT_START_INFO_GPA 0x6000ull
#define BOOT_MEMMAP_GPA 0x6040ull
#define BOOT_MODLIST_GPA 0x6400ull
#define BOOT_MODCMD_GPA 0x6800ull
#define BOOT_CMDLINE_GPA 0x7000ull
#define BOOT_STACK_TOP_GPA 0x8ff0ull
#define BOOT_PML4_GPA 0x9000ull
#define BOOT_PDPT_GPA 0xa000ull
#define BOOT_PD_GPA 0xb000ull /* 4 pages: 4 GiB of 2 MiB pages */
#define BOOT_FDT_GPA 0x10000ull
#define BOOT_FDT_MAX_BYTES 0x10000ull
#define BOOT_AREA_END_GPA 0x20000ull

/* In the 32-bit hole: KVM's real-mode TSS (3 pages) and identity map page,
 * needed by VMX hosts; where QEMU puts them too. */
#define BOOT_KVM_TSS_GPA 0xfeffd000ull
#define BOOT_KVM_IDMAP_GPA 0xfeffc000ull

#endif
