// SPDX-License-Identifier: MIT
/*
 * The bzImage setup header parser, kernel placement, the zero page that
 * kvmtrack builds (checked against the boot protocol's offsets, written out
 * here as numbers on purpose), the E820 map and the MP table.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "vmm/boot/bzimage.h"
#include "vmm/boot/e820.h"
#include "vmm/boot/mptable.h"
#include "vmm/mem/memory.h"

#define IMAGE_BYTES (5 * 512 + 0x3000) /* boot sector, 4 setup sectors, kernel */

static uint8_t image[IMAGE_BYTES];

static void put(uint8_t *p, unsigned int bytes, uint64_t v)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = bytes; i-- > 0;)
		v = (v << 8) | p[i];
	return v;
}

/* A Debian-like header: protocol 2.15, pref_address 16 MiB. */
static void make_image(void)
{
	memset(image, 0, sizeof(image));
	image[0x1f1] = 4; /* setup_sects */
	put(image + 0x1f4, 4, 0x3000 / 16); /* syssize */
	put(image + 0x1fe, 2, 0xaa55);
	image[0x200] = 0xeb;
	image[0x201] = 0x6a; /* header ends at 0x26c */
	memcpy(image + 0x202, "HdrS", 4);
	put(image + 0x206, 2, 0x020f);
	image[0x211] = 0x01; /* LOADED_HIGH */
	put(image + 0x214, 4, 0x100000);
	put(image + 0x22c, 4, 0x7fffffff);
	put(image + 0x230, 4, 0x200000);
	image[0x234] = 1;
	put(image + 0x236, 2, 0x7f);
	put(image + 0x238, 4, 2047);
	put(image + 0x258, 8, 0x1000000);
	put(image + 0x260, 4, 0x2000000); /* init_size 32 MiB */
	put(image + 0x264, 4, 0x190); /* handover_offset: must be copied */
}

static int parse(struct bzimage_info *info, size_t len, char *why)
{
	return bzimage_parse(image, len, info, why, 256);
}

Test(bzimage_parse, reads_the_setup_header)
{
	struct bzimage_info info;
	char why[256] = "";

	make_image();
	cr_assert_eq(parse(&info, sizeof(image), why), 0, "%s", why);
	cr_expect_eq(info.version, 0x020f);
	cr_expect_eq(info.setup_sects, 4);
	cr_expect_eq(info.setup_bytes, 5 * 512);
	cr_expect_eq(info.kernel_bytes, IMAGE_BYTES - 5 * 512);
	cr_expect_eq(info.pref_address, 0x1000000);
	cr_expect_eq(info.init_size, 0x2000000);
	cr_expect_eq(info.initrd_addr_max, 0x7fffffff);
	cr_expect_eq(info.kernel_alignment, 0x200000);
	cr_expect(info.relocatable);
	cr_expect_eq(info.cmdline_size, 2047);
	cr_expect_eq(info.header_bytes, 0x26c - 0x1f1);
}

Test(bzimage_parse, zero_setup_sects_means_four)
{
	struct bzimage_info info;
	char why[256] = "";

	make_image();
	image[0x1f1] = 0;
	cr_assert_eq(parse(&info, sizeof(image), why), 0, "%s", why);
	cr_expect_eq(info.setup_bytes, 5 * 512);
}

Test(bzimage_parse, rejects_bad_magic)
{
	struct bzimage_info info;
	char why[256] = "";

	make_image();
	image[0x205] = 'X';
	cr_expect_eq(parse(&info, sizeof(image), why), -EINVAL);
	cr_expect(strstr(why, "bad setup header magic"), "%s", why);
	make_image();
	put(image + 0x1fe, 2, 0x1234);
	cr_expect_eq(parse(&info, sizeof(image), why), -EINVAL);
	cr_expect(strstr(why, "bad boot flag 0x1234"), "%s", why);
}

Test(bzimage_parse, rejects_old_protocols)
{
	struct bzimage_info info;
	char why[256] = "";

	make_image();
	put(image + 0x206, 2, 0x0204);
	cr_expect_eq(parse(&info, sizeof(image), why), -ENOEXEC);
	cr_expect(strstr(why, "boot protocol 2.04 is too old"), "%s", why);
}

Test(bzimage_parse, rejects_truncation)
{
	struct bzimage_info info;
	char why[256] = "";

	make_image();
	cr_expect_eq(parse(&info, 0x800, why), -EINVAL);
	cr_expect(strstr(why, "4 setup sectors (2560 bytes with the boot sector) but the image has 2048 bytes"),
		  "%s", why);
	cr_expect_eq(parse(&info, IMAGE_BYTES - 16, why), -EINVAL);
	cr_expect(strstr(why, "syssize says 12288 bytes of kernel"), "%s", why);
	cr_expect_eq(parse(&info, 0x240, why), -EINVAL);
	cr_expect(strstr(why, "setup header ends at 0x26c"), "%s", why);
}

Test(bzimage_parse, rejects_kernels_without_a_64_bit_entry)
{
	struct bzimage_info info;
	char why[256] = "";

	make_image();
	put(image + 0x236, 2, 0);
	cr_expect_eq(parse(&info, sizeof(image), why), -ENOEXEC);
	cr_expect(strstr(why, "XLF_KERNEL_64"), "%s", why);
}

Test(bzimage_place, prefers_pref_address_then_one_mib)
{
	struct guest_mem mem;
	struct bzimage_info info;
	uint64_t load, end;
	char why[256] = "";

	make_image();
	cr_assert_eq(parse(&info, sizeof(image), why), 0);
	cr_assert_eq(guest_mem_plan(&mem, 256ull << 20), 0);
	cr_assert_eq(bzimage_place(&info, &mem, &load, &end, why, 256), 0);
	cr_expect_eq(load, 0x1000000);
	cr_expect_eq(end, 0x3000000);
	/* 40 MiB: pref_address + init_size (48 MiB) does not fit, and a
	 * relocatable kernel still runs from LOAD_PHYSICAL_ADDR up. */
	cr_assert_eq(guest_mem_plan(&mem, 40ull << 20), 0);
	cr_expect_eq(bzimage_place(&info, &mem, &load, &end, why, 256), -EFBIG);
	cr_expect(strstr(why, "needs RAM up to 0x3000000"), "%s", why);
	/* A kernel linked low fits at 1 MiB. */
	info.pref_address = 0x100000;
	cr_assert_eq(bzimage_place(&info, &mem, &load, &end, why, 256), 0);
	cr_expect_eq(load, 0x100000);
	cr_expect_eq(end, 0x200000 + 0x2000000);
}

Test(bzimage_zero_page, fields_at_the_boot_protocol_offsets)
{
	struct e820_entry map[2] = {
		{ .gpa = 0, .size_bytes = 0xa0000, .type = 1 },
		{ .gpa = 0x100000, .size_bytes = 0x7f00000, .type = 1 },
	};
	struct bzimage_boot boot = {
		.load_gpa = 0x1000000,
		.cmdline_gpa = 0x7000,
		.initrd_gpa = 0x7f00000,
		.initrd_bytes = 0x12345,
		.setup_data_gpa = 0xfff0,
		.e820 = map,
		.nr_e820 = 2,
	};
	struct bzimage_info info;
	static uint8_t zp[4096];
	char why[256] = "";

	make_image();
	cr_assert_eq(parse(&info, sizeof(image), why), 0);
	memset(zp, 0xcc, sizeof(zp));
	bzimage_build_zero_page(&info, &boot, zp);
	/* The setup header, copied unchanged where the loader fills nothing. */
	cr_expect_eq(zp[0x1f1], 4);
	cr_expect_eq(get(zp + 0x1fe, 2), 0xaa55);
	cr_expect_eq(get(zp + 0x202, 4), 0x53726448);
	cr_expect_eq(get(zp + 0x206, 2), 0x020f);
	cr_expect_eq(get(zp + 0x22c, 4), 0x7fffffff);
	cr_expect_eq(get(zp + 0x258, 8), 0x1000000);
	cr_expect_eq(get(zp + 0x260, 4), 0x2000000);
	cr_expect_eq(get(zp + 0x264, 4), 0x190);
	/* The loader's fields. */
	cr_expect_eq(get(zp + 0x1fa, 2), 0xffff); /* vid_mode */
	cr_expect_eq(zp[0x210], 0xff); /* type_of_loader */
	cr_expect_eq(zp[0x211], 0x81); /* LOADED_HIGH | CAN_USE_HEAP */
	cr_expect_eq(get(zp + 0x214, 4), 0x1000000); /* code32_start */
	cr_expect_eq(get(zp + 0x218, 4), 0x7f00000); /* ramdisk_image */
	cr_expect_eq(get(zp + 0x21c, 4), 0x12345); /* ramdisk_size */
	cr_expect_eq(get(zp + 0x224, 2), 0xde00); /* heap_end_ptr */
	cr_expect_eq(get(zp + 0x228, 4), 0x7000); /* cmd_line_ptr */
	cr_expect_eq(get(zp + 0x250, 8), 0xfff0); /* setup_data */
	cr_expect_eq(get(zp + 0x0c0, 4), 0); /* ext_ramdisk_image */
	cr_expect_eq(get(zp + 0x0c4, 4), 0); /* ext_ramdisk_size */
	cr_expect_eq(get(zp + 0x0c8, 4), 0); /* ext_cmd_line_ptr */
	cr_expect_eq(get(zp + 0x070, 8), 0); /* acpi_rsdp_addr */
	cr_expect_eq(zp[0x1ef], 0); /* sentinel */
	/* e820_entries and e820_table: 20-byte entries at 0x2d0. */
	cr_expect_eq(zp[0x1e8], 2);
	cr_expect_eq(get(zp + 0x2d0, 8), 0);
	cr_expect_eq(get(zp + 0x2d8, 8), 0xa0000);
	cr_expect_eq(get(zp + 0x2e0, 4), 1);
	cr_expect_eq(get(zp + 0x2e4, 8), 0x100000);
	cr_expect_eq(get(zp + 0x2ec, 8), 0x7f00000);
	cr_expect_eq(get(zp + 0x2f4, 4), 1);
	cr_expect_eq(get(zp + 0x2f8, 8), 0); /* nothing after */
	/* Nothing of the 0xcc fill is left: the page is rebuilt whole. */
	for (unsigned int i = 0; i < sizeof(zp); i++)
		cr_assert_neq(zp[i], 0xcc, "byte 0x%x left unset", i);
}

Test(bzimage_zero_page, high_initrd_uses_the_ext_fields)
{
	struct bzimage_boot boot = {
		.initrd_gpa = 0x123456000ull, .initrd_bytes = 0x100000000ull,
	};
	struct bzimage_info info;
	static uint8_t zp[4096];
	char why[256] = "";

	make_image();
	cr_assert_eq(parse(&info, sizeof(image), why), 0);
	bzimage_build_zero_page(&info, &boot, zp);
	cr_expect_eq(get(zp + 0x218, 4), 0x23456000);
	cr_expect_eq(get(zp + 0x0c0, 4), 0x1);
	cr_expect_eq(get(zp + 0x21c, 4), 0);
	cr_expect_eq(get(zp + 0x0c4, 4), 0x1);
}

Test(bzimage_zero_page, setup_data_header)
{
	uint8_t hdr[16];

	memset(hdr, 0xcc, sizeof(hdr));
	bzimage_put_setup_data_hdr(hdr, 2, 0x1234);
	cr_expect_eq(get(hdr, 8), 0); /* next */
	cr_expect_eq(get(hdr + 8, 4), 2); /* SETUP_DTB */
	cr_expect_eq(get(hdr + 12, 4), 0x1234);
}

Test(e820, map_follows_the_memory_layout)
{
	struct e820_entry map[E820_MAX_ENTRIES];
	struct guest_mem mem;
	unsigned int n;

	cr_assert_eq(guest_mem_plan(&mem, 4ull << 30), 0);
	n = e820_from_layout(&mem, map, E820_MAX_ENTRIES);
	cr_assert_eq(n, 4);
	cr_expect(map[0].gpa == 0 && map[0].size_bytes == 0xa0000 &&
		  map[0].type == E820_RAM);
	cr_expect(map[1].gpa == 0xa0000 && map[1].size_bytes == 0x60000 &&
		  map[1].type == E820_RESERVED);
	cr_expect(map[2].gpa == 0x100000 &&
		  map[2].size_bytes == (3ull << 30) - 0x100000);
	cr_expect(map[3].gpa == 4ull << 30 && map[3].size_bytes == 1ull << 30 &&
		  map[3].type == E820_RAM);
}

static uint8_t byte_sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

Test(mptable, checksums_and_entries)
{
	uint8_t buf[MPTABLE_MAX_BYTES];
	const uint8_t *mpc = buf + 16, *e;
	unsigned int cpus = 0, ioapics = 0, irqs = 0, bsp = 0;
	int bytes = mptable_build(3, buf, sizeof(buf));

	cr_assert_gt(bytes, 0);
	cr_expect_eq(memcmp(buf, "_MP_", 4), 0);
	cr_expect_eq(get(buf + 4, 4), MPTABLE_GPA + 16);
	cr_expect_eq(byte_sum(buf, 16), 0);
	cr_expect_eq(memcmp(mpc, "PCMP", 4), 0);
	cr_expect_eq(16 + get(mpc + 4, 2), (uint64_t)bytes);
	cr_expect_eq(byte_sum(mpc, get(mpc + 4, 2)), 0);
	cr_expect_eq(get(mpc + 36, 4), 0xfee00000);
	for (e = mpc + 44; e < mpc + get(mpc + 4, 2); e += e[0] ? 8 : 20) {
		if (e[0] == 0) {
			cr_expect_eq(e[1], cpus);
			bsp += (e[3] & 2) != 0;
			cpus++;
		}
		if (e[0] == 2) {
			ioapics++;
			cr_expect_eq(e[1], 3); /* after the CPUs' APIC IDs */
			cr_expect_eq(get(e + 4, 4), 0xfec00000);
		}
		if (e[0] == 3) {
			cr_expect_eq(e[5], e[7]); /* ISA IRQ n on pin n */
			irqs++;
		}
	}
	cr_expect_eq(cpus, 3);
	cr_expect_eq(bsp, 1);
	cr_expect_eq(ioapics, 1);
	cr_expect_eq(irqs, 15);
	cr_expect_eq(get(mpc + 34, 2), 3 + 2 + 15 + 2);
	cr_expect_eq(mptable_build(3, buf, 64), -ENOSPC);
}
