// SPDX-License-Identifier: MIT
/*
 * The synthetic bzImage's 64-bit program: checks everything kvmtrack hands
 * a Linux kernel through the 64-bit boot protocol and prints one line per
 * check on COM1 ("bzcheck: ok NAME" or "bzcheck: FAIL NAME: why"), then a
 * summary, and exits through the debug-exit port with the number of failed
 * checks. Offsets are the boot protocol's (zero-page.rst, boot.rst). It runs
 * at CPL0, which these build machines emulate slowly: keep it short.
 */
#include <stdint.h>

#include "tests/images/bzimage/bzcheck.h"

#define COM1 0x3f8
#define DEBUG_EXIT 0x501
#define SETUP_DTB 2
#define E820_RAM 1
#define E820_RESERVED 2

extern char _end[];

static unsigned int failures, checks;

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void putc_serial(char c)
{
	for (int i = 0; i < 1000 && !(inb(COM1 + 5) & 0x20); i++)
		;
	outb(COM1, (uint8_t)c);
}

static void puts_serial(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

static void put_dec(uint64_t v)
{
	char buf[21];
	int i = 20;

	buf[i] = '\0';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_serial(buf + i);
}

static void put_hex(uint64_t v)
{
	char buf[19];
	int i = 18;

	buf[i] = '\0';
	do {
		buf[--i] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v && i > 2);
	buf[--i] = 'x';
	buf[--i] = '0';
	puts_serial(buf + i);
}

/* One check: "ok NAME", or "FAIL NAME: why 0xvalue". */
static void report(int ok, const char *name, const char *why, uint64_t value)
{
	checks++;
	puts_serial(ok ? "bzcheck: ok " : "bzcheck: FAIL ");
	puts_serial(name);
	if (!ok) {
		failures++;
		puts_serial(": ");
		puts_serial(why);
		puts_serial(" ");
		put_hex(value);
	}
	putc_serial('\n');
}

static uint64_t le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static uint64_t str_len(const char *s)
{
	uint64_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* True if needle (with its NUL) occurs in hay[0..len). */
static int contains(const uint8_t *hay, uint64_t len, const char *needle)
{
	uint64_t n = str_len(needle) + 1;

	for (uint64_t i = 0; i + n <= len; i++) {
		uint64_t j = 0;

		while (j < n && hay[i + j] == (uint8_t)needle[j])
			j++;
		if (j == n)
			return 1;
	}
	return 0;
}

static const uint8_t *bp; /* boot_params */

/* True if [gpa, gpa + len) lies in one E820 RAM entry. */
static int in_ram(uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < bp[0x1e8]; i++) {
		const uint8_t *e = bp + 0x2d0 + 20 * i;
		uint64_t a = le(e, 8), n = le(e + 8, 8);

		if (le(e + 16, 4) == E820_RAM && gpa >= a && gpa + len <= a + n)
			return 1;
	}
	return 0;
}

static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static uint64_t kernel_end(void)
{
	return BZCHECK_LOAD_GPA + le(bp + 0x260, 4);
}

static void check_entry(uint64_t rip, uint64_t rsp)
{
	uint16_t cs, ds, es, ss;
	uint64_t flags;

	__asm__ volatile("mov %%cs, %0; mov %%ds, %1; mov %%es, %2; mov %%ss, %3"
			 : "=r"(cs), "=r"(ds), "=r"(es), "=r"(ss));
	__asm__ volatile("pushfq; popq %0" : "=r"(flags));
	report(rip == BZCHECK_LOAD_GPA + 0x200, "entry",
	       "startup_64 is not pref_address + 0x200 but", rip);
	report(cs == 0x10 && ds == 0x18 && es == 0x18 && ss == 0x18,
	       "segments", "cs/ds/es/ss are not 0x10/0x18/0x18/0x18: cs", cs);
	report(!(flags & 0x200), "interrupts-off", "rflags", flags);
	report((uint64_t)bp != 0 && ((uint64_t)bp & 0xfff) == 0 &&
		       in_ram((uint64_t)bp, 4096) &&
		       !overlaps((uint64_t)bp, 4096, BZCHECK_LOAD_GPA,
				 kernel_end() - BZCHECK_LOAD_GPA),
	       "rsi-zero-page", "rsi", (uint64_t)bp);
	(void)rsp;
}

static void check_header(void)
{
	int same;

	report(le(bp + 0x202, 4) == 0x53726448 && le(bp + 0x1fe, 2) == 0xaa55,
	       "header-magic", "HdrS/boot_flag", le(bp + 0x202, 4));
	report(le(bp + 0x206, 2) == BZCHECK_VERSION, "header-version",
	       "version", le(bp + 0x206, 2));
	/* Fields a loader must copy unchanged: our header's constants (the
	 * setup sectors themselves are not loaded). */
	same = bp[0x1f1] == 1 && le(bp + 0x22c, 4) == BZCHECK_INITRD_ADDR_MAX &&
	       le(bp + 0x230, 4) == 0x200000 && bp[0x234] == 1 &&
	       le(bp + 0x236, 2) == 1 && le(bp + 0x238, 4) == BZCHECK_CMDLINE_SIZE &&
	       le(bp + 0x258, 8) == BZCHECK_LOAD_GPA &&
	       le(bp + 0x260, 4) == (uint64_t)(_end - (char *)BZCHECK_LOAD_GPA);
	report(same, "header-copied", "setup header fields differ, init_size",
	       le(bp + 0x260, 4));
	report(bp[0x1ef] == 0, "sentinel", "sentinel", bp[0x1ef]);
}

static void check_loader_fields(void)
{
	report(bp[0x210] == 0xff, "type_of_loader", "type_of_loader", bp[0x210]);
	report((bp[0x211] & 0x81) == 0x81, "loadflags",
	       "LOADED_HIGH|CAN_USE_HEAP missing", bp[0x211]);
	report(le(bp + 0x224, 2) == 0xde00, "heap_end_ptr", "heap_end_ptr",
	       le(bp + 0x224, 2));
	report(le(bp + 0x214, 4) == BZCHECK_LOAD_GPA, "code32_start",
	       "code32_start", le(bp + 0x214, 4));
	report(le(bp + 0x1fa, 2) == 0xffff, "vid_mode", "vid_mode",
	       le(bp + 0x1fa, 2));
}

static void check_cmdline(void)
{
	uint64_t gpa = le(bp + 0x228, 4) | le(bp + 0xc8, 4) << 32;
	const char *cmd = (const char *)gpa;

	report(gpa && in_ram(gpa, str_len(cmd) + 1) && str_eq(cmd, BZCHECK_CMDLINE),
	       "cmdline", "cmd_line_ptr", gpa);
}

static void check_e820(void)
{
	uint64_t ram = 0, prev_end = 0;
	unsigned int n = bp[0x1e8];
	int sorted = 1, legacy = 0;

	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *e = bp + 0x2d0 + 20 * i;
		uint64_t a = le(e, 8), len = le(e + 8, 8);
		uint32_t type = (uint32_t)le(e + 16, 4);

		sorted &= a >= prev_end && len > 0;
		prev_end = a + len;
		if (type == E820_RAM)
			ram += len;
		if (type == E820_RESERVED && a == 0xa0000 && len == 0x60000)
			legacy = 1;
	}
	report(n >= 3 && sorted, "e820-sorted", "entries", n);
	report(ram == BZCHECK_MEM_BYTES - 0x60000, "e820-ram",
	       "RAM bytes", ram);
	report(legacy && in_ram(0, 0xa0000), "e820-legacy-hole",
	       "[0xa0000, 1M) not reserved", legacy);
	report(in_ram(BZCHECK_LOAD_GPA, kernel_end() - BZCHECK_LOAD_GPA),
	       "e820-kernel", "kernel not in RAM, ends at", kernel_end());
}

static void check_initrd(void)
{
	uint64_t gpa = le(bp + 0x218, 4) | le(bp + 0xc0, 4) << 32;
	uint64_t len = le(bp + 0x21c, 4) | le(bp + 0xc4, 4) << 32;
	const uint8_t *p = (const uint8_t *)gpa;
	uint64_t bad = ~0ull;

	report(len == BZCHECK_INITRD_BYTES, "initrd-size", "ramdisk_size", len);
	report(gpa && (gpa & 0xfff) == 0 && gpa >= kernel_end() &&
		       gpa + len - 1 <= BZCHECK_INITRD_ADDR_MAX && in_ram(gpa, len),
	       "initrd-place",
	       "not page aligned, above the kernel, below initrd_addr_max:",
	       gpa);
	for (uint64_t i = 0; i < len && bad == ~0ull; i++)
		if (p[i] != bzcheck_initrd_byte(i))
			bad = i;
	report(bad == ~0ull, "initrd-bytes", "first bad byte at", bad);
}

static void check_setup_dtb(void)
{
	uint64_t gpa = le(bp + 0x250, 8), found = 0, len = 0;

	for (int hops = 0; gpa && hops < 16; hops++) {
		const uint8_t *sd = (const uint8_t *)gpa;

		if (le(sd + 8, 4) == SETUP_DTB) {
			found = gpa;
			len = le(sd + 12, 4);
			break;
		}
		gpa = le(sd, 8);
	}
	report(found && in_ram(found, 16 + len), "setup-dtb-entry",
	       "no SETUP_DTB entry in RAM, setup_data", le(bp + 0x250, 8));
	if (!found)
		return;
	const uint8_t *dtb = (const uint8_t *)(found + 16);
	uint64_t initrd = le(bp + 0x218, 4);

	report(be32(dtb) == 0xd00dfeed && be32(dtb + 4) == len,
	       "setup-dtb-fdt", "bad FDT magic or totalsize != len", len);
	report(!overlaps(found, 16 + len, BZCHECK_LOAD_GPA,
			 kernel_end() - BZCHECK_LOAD_GPA) &&
		       !overlaps(found, 16 + len, initrd, le(bp + 0x21c, 4)) &&
		       !overlaps(found, 16 + len, (uint64_t)bp, 4096),
	       "setup-dtb-place", "overlaps the kernel, initrd or zero page",
	       found);
	report(contains(dtb, len, "kvmtrack,pc") &&
		       contains(dtb, len, BZCHECK_CMDLINE),
	       "setup-dtb-content", "no compatible/bootargs, len", len);
}

static uint8_t sum(const uint8_t *p, uint64_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void check_mptable(void)
{
	const uint8_t *mpf = 0, *mpc;
	unsigned int cpus = 0;

	for (uint64_t a = 0xf0000; a < 0x100000 && !mpf; a += 16)
		if (le((const uint8_t *)a, 4) == 0x5f504d5f /* _MP_ */ &&
		    sum((const uint8_t *)a, 16) == 0)
			mpf = (const uint8_t *)a;
	report(mpf != 0, "mptable-found", "no _MP_ in the BIOS area", 0);
	if (!mpf)
		return;
	mpc = (const uint8_t *)le(mpf + 4, 4);
	report(le(mpc, 4) == 0x504d4350 /* PCMP */ &&
		       sum(mpc, le(mpc + 4, 2)) == 0,
	       "mptable-checksum", "PCMP table at", (uint64_t)mpc);
	for (const uint8_t *e = mpc + 44; e < mpc + le(mpc + 4, 2);
	     e += e[0] == 0 ? 20 : 8)
		cpus += e[0] == 0 && (e[3] & 1);
	report(cpus == BZCHECK_CPUS, "mptable-cpus", "processors", cpus);
}

void bzcheck_main(const uint8_t *boot_params, uint64_t rip, uint64_t rsp);

void bzcheck_main(const uint8_t *boot_params, uint64_t rip, uint64_t rsp)
{
	bp = boot_params;
	puts_serial("bzcheck: started\n");
	check_entry(rip, rsp);
	check_header();
	check_loader_fields();
	check_cmdline();
	check_e820();
	check_initrd();
	check_setup_dtb();
	check_mptable();
	puts_serial("bzcheck: ");
	put_dec(checks);
	puts_serial(" checks, ");
	put_dec(failures);
	puts_serial(" failed\n");
	outb(DEBUG_EXIT, (uint8_t)failures);
}
