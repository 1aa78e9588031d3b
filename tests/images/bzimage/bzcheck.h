/* SPDX-License-Identifier: MIT */
/*
 * What the synthetic bzImage (tests/images/bzimage/) expects kvmtrack to
 * hand it; shared by the image and by tests/kvm/test_bzimage.c, which runs
 * it with exactly these settings.
 */
#ifndef KVMTRACK_BZCHECK_H
#define KVMTRACK_BZCHECK_H

#define BZCHECK_LOAD_GPA 0x200000 /* pref_address */
#define BZCHECK_SETUP_BYTES 0x400 /* boot sector + 1 setup sector */
#define BZCHECK_INITRD_ADDR_MAX 0x03ffffff /* below RAM's top on purpose */
#define BZCHECK_CMDLINE_SIZE 255
#define BZCHECK_VERSION 0x020f
#define BZCHECK_MEM "128M"
#define BZCHECK_MEM_BYTES (128ull << 20)
#define BZCHECK_CPUS 2
#define BZCHECK_CPUS_ARG "2"
#define BZCHECK_CMDLINE "console=ttyS0 bzcheck.mode=all quiet"
#define BZCHECK_INITRD_BYTES 70001 /* not a page multiple */

#ifndef __ASSEMBLY__
/* Initrd byte i: a pattern that catches shifts and truncation. */
static inline unsigned char bzcheck_initrd_byte(unsigned long i)
{
	return (unsigned char)((i * 131u + (i >> 8) * 7u + 3u) & 0xff);
}
#endif

#endif
