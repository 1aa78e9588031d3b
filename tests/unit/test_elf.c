// SPDX-License-Identifier: MIT
/*
 * elf_parse() on images built in memory: a valid one, one malformed
 * variant per check, every truncation, random corruption, and the real
 * images from guest/ and tests/images/ when they have been built.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/boot/elf.h"

/*
 * Layout of the image the builder writes:
 *   0x000 ELF header
 *   0x040 program headers: [0] PT_NOTE, [1] PT_LOAD text, [2] PT_LOAD data
 *   0x100 notes: Xen PVH entry, then kvmtrack AP entry (each optional)
 *   0x200 text file data (0x40 bytes) at paddr 0x100000, memsz 0x1000
 *   0x240 data file data (0x20 bytes) at paddr 0x101000, memsz 0x2000
 * The data segment ends the file, so every shorter length cuts something.
 */
#define IMG_BYTES 0x260
#define PHDR_OFF 0x40
#define NOTE_OFF 0x100
#define TEXT_OFF 0x200
#define DATA_OFF 0x240
#define TEXT_GPA 0x100000ull
#define DATA_GPA 0x101000ull
#define ENTRY64 0x100000ull
#define PVH_ENTRY 0x100010u
#define AP_ENTRY 0x100020u

struct img_opts {
	bool pvh;
	bool ap;
	unsigned int pvh_descsz; /* 4 or 8 */
};

struct test_image {
	unsigned char buf[IMG_BYTES];
	struct elf_image img;
	char err[256];
};

static Elf64_Ehdr get_ehdr(const struct test_image *t)
{
	Elf64_Ehdr eh;

	memcpy(&eh, t->buf, sizeof(eh));
	return eh;
}

static void put_ehdr(struct test_image *t, const Elf64_Ehdr *eh)
{
	memcpy(t->buf, eh, sizeof(*eh));
}

static Elf64_Phdr get_phdr(const struct test_image *t, unsigned int i)
{
	Elf64_Phdr ph;

	memcpy(&ph, t->buf + PHDR_OFF + i * sizeof(ph), sizeof(ph));
	return ph;
}

static void put_phdr(struct test_image *t, unsigned int i,
		     const Elf64_Phdr *ph)
{
	memcpy(t->buf + PHDR_OFF + i * sizeof(*ph), ph, sizeof(*ph));
}

/* Appends one note at *off and advances *off past its padding. */
static void put_note(unsigned char *buf, size_t *off, const char *name,
		     uint32_t type, const void *desc, uint32_t descsz)
{
	Elf64_Nhdr nh = {
		.n_namesz = (uint32_t)strlen(name) + 1,
		.n_descsz = descsz,
		.n_type = type,
	};

	memcpy(buf + *off, &nh, sizeof(nh));
	*off += sizeof(nh);
	memcpy(buf + *off, name, nh.n_namesz);
	*off += (nh.n_namesz + 3) & ~3u;
	if (descsz)
		memcpy(buf + *off, desc, descsz);
	*off += (descsz + 3) & ~3u;
}

static size_t put_notes(unsigned char *buf, const struct img_opts *o)
{
	uint64_t pvh = PVH_ENTRY;
	uint32_t ap = AP_ENTRY;
	size_t off = NOTE_OFF;

	if (o->pvh)
		put_note(buf, &off, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &pvh,
			 o->pvh_descsz ? o->pvh_descsz : 4);
	if (o->ap)
		put_note(buf, &off, "kvmtrack", KVMTRACK_NOTE_AP_ENTRY32, &ap,
			 sizeof(ap));
	return off - NOTE_OFF;
}

static void build_image(struct test_image *t, const struct img_opts *o)
{
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
			     ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC,
		.e_machine = EM_X86_64,
		.e_version = EV_CURRENT,
		.e_entry = ENTRY64,
		.e_phoff = PHDR_OFF,
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = 3,
	};
	Elf64_Phdr note = { .p_type = PT_NOTE, .p_offset = NOTE_OFF,
			    .p_align = 4 };
	Elf64_Phdr text = { .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
			    .p_offset = TEXT_OFF, .p_vaddr = TEXT_GPA,
			    .p_paddr = TEXT_GPA, .p_filesz = 0x40,
			    .p_memsz = 0x1000, .p_align = 0x1000 };
	Elf64_Phdr data = { .p_type = PT_LOAD, .p_flags = PF_R | PF_W,
			    .p_offset = DATA_OFF, .p_vaddr = DATA_GPA,
			    .p_paddr = DATA_GPA, .p_filesz = 0x20,
			    .p_memsz = 0x2000, .p_align = 0x1000 };

	memset(t, 0, sizeof(*t));
	note.p_filesz = put_notes(t->buf, o);
	memset(t->buf + TEXT_OFF, 0xf4, 0x40); /* hlt */
	memset(t->buf + DATA_OFF, 0x5a, 0x20);
	put_ehdr(t, &eh);
	put_phdr(t, 0, &note);
	put_phdr(t, 1, &text);
	put_phdr(t, 2, &data);
}

static void build_full(struct test_image *t)
{
	build_image(t, &(struct img_opts){ .pvh = true, .ap = true });
}

static int parse(struct test_image *t)
{
	return elf_parse(t->buf, sizeof(t->buf), &t->img, t->err,
			 sizeof(t->err));
}

/* Asserts the error code and that every key word is in the message. */
static void expect_error(struct test_image *t, int want, const char *w1,
			 const char *w2)
{
	int ret = parse(t);

	cr_assert_eq(ret, want, "ret %d, want %d (%s)", ret, want, t->err);
	cr_assert(strchr(t->err, '\n') == NULL, "message is one line: %s",
		  t->err);
	cr_assert(strstr(t->err, w1), "'%s' not in '%s'", w1, t->err);
	if (w2)
		cr_assert(strstr(t->err, w2), "'%s' not in '%s'", w2, t->err);
}

Test(elf, valid_with_pvh_and_ap_notes)
{
	struct test_image t;
	const struct elf_image *img = &t.img;

	build_full(&t);
	cr_assert_eq(parse(&t), 0, "%s", t.err);
	cr_assert_str_empty(t.err);
	cr_assert_eq(img->entry, ENTRY64);
	cr_assert(img->has_pvh_entry);
	cr_assert_eq(img->pvh_entry, PVH_ENTRY);
	cr_assert(img->has_ap_entry);
	cr_assert_eq(img->ap_entry, AP_ENTRY);
	cr_assert_eq(img->nr_segs, 2);
	cr_assert_eq(img->segs[0].paddr, TEXT_GPA);
	cr_assert_eq(img->segs[0].file_offset, TEXT_OFF);
	cr_assert_eq(img->segs[0].file_bytes, 0x40);
	cr_assert_eq(img->segs[0].mem_bytes, 0x1000);
	cr_assert_eq(img->segs[1].paddr, DATA_GPA);
	cr_assert_eq(img->segs[1].file_offset, DATA_OFF);
	cr_assert_eq(img->segs[1].file_bytes, 0x20);
	cr_assert_eq(img->segs[1].mem_bytes, 0x2000);
	cr_assert_eq(img->lowest_paddr, TEXT_GPA);
	cr_assert_eq(img->highest_paddr_end, DATA_GPA + 0x2000);
}

Test(elf, no_notes_means_64bit_entry)
{
	struct test_image t;

	build_image(&t, &(struct img_opts){ 0 });
	cr_assert_eq(parse(&t), 0, "%s", t.err);
	cr_assert_not(t.img.has_pvh_entry);
	cr_assert_not(t.img.has_ap_entry);
	cr_assert_eq(t.img.entry, ENTRY64);
	cr_assert_eq(t.img.nr_segs, 2);
}

Test(elf, pvh_note_with_8_byte_descriptor)
{
	struct test_image t;

	build_image(&t, &(struct img_opts){ .pvh = true, .pvh_descsz = 8 });
	cr_assert_eq(parse(&t), 0, "%s", t.err);
	cr_assert(t.img.has_pvh_entry);
	cr_assert_eq(t.img.pvh_entry, PVH_ENTRY);
	cr_assert_not(t.img.has_ap_entry);
}

Test(elf, pvh_entry_above_4g)
{
	struct test_image t;
	uint64_t high = 0x100000000ull | PVH_ENTRY;

	build_image(&t, &(struct img_opts){ .pvh = true, .pvh_descsz = 8 });
	/* The descriptor follows the 12-byte header and the 4-byte name. */
	memcpy(t.buf + NOTE_OFF + 16, &high, sizeof(high));
	expect_error(&t, -EINVAL, "PVH entry", "4 GiB");
}

Test(elf, note_descriptor_of_wrong_size)
{
	struct test_image t;

	build_image(&t, &(struct img_opts){ .pvh = true, .pvh_descsz = 2 });
	expect_error(&t, -EINVAL, "PVH entry note descriptor is 2 bytes",
		     NULL);
}

Test(elf, duplicate_ap_note)
{
	struct test_image t;
	uint32_t ap = AP_ENTRY;
	size_t off = NOTE_OFF;
	Elf64_Phdr ph;

	build_image(&t, &(struct img_opts){ 0 });
	put_note(t.buf, &off, "kvmtrack", KVMTRACK_NOTE_AP_ENTRY32, &ap, 4);
	put_note(t.buf, &off, "kvmtrack", KVMTRACK_NOTE_AP_ENTRY32, &ap, 4);
	ph = get_phdr(&t, 0);
	ph.p_filesz = off - NOTE_OFF;
	put_phdr(&t, 0, &ph);
	expect_error(&t, -EINVAL, "more than one", "AP entry");
}

Test(elf, other_notes_are_ignored)
{
	struct test_image t;
	uint32_t v = 0xdeadbeef;
	size_t off = NOTE_OFF;
	Elf64_Phdr ph;

	build_image(&t, &(struct img_opts){ 0 });
	put_note(t.buf, &off, "GNU", 3, &v, 4); /* NT_GNU_BUILD_ID-like */
	put_note(t.buf, &off, "Xen", 5, &v, 4); /* another Xen note type */
	put_note(t.buf, &off, "kvmtrac", 1, &v, 4); /* near miss */
	put_note(t.buf, &off, "", 0, NULL, 0);
	ph = get_phdr(&t, 0);
	ph.p_filesz = off - NOTE_OFF;
	put_phdr(&t, 0, &ph);
	cr_assert_eq(parse(&t), 0, "%s", t.err);
	cr_assert_not(t.img.has_pvh_entry);
	cr_assert_not(t.img.has_ap_entry);
}

Test(elf, bad_magic)
{
	struct test_image t;

	build_full(&t);
	t.buf[1] = 'X';
	expect_error(&t, -ENOEXEC, "not an ELF image", "magic");
}

Test(elf, elf32)
{
	struct test_image t;

	build_full(&t);
	t.buf[EI_CLASS] = ELFCLASS32;
	expect_error(&t, -ENOEXEC, "ELF class 1 (32-bit)", "ELF64");
}

Test(elf, big_endian)
{
	struct test_image t;

	build_full(&t);
	t.buf[EI_DATA] = ELFDATA2MSB;
	expect_error(&t, -ENOEXEC, "big-endian", "little-endian");
}

Test(elf, wrong_machine)
{
	static const struct {
		uint16_t machine;
		const char *name;
	} cases[] = {
		{ EM_AARCH64, "183 (AArch64)" },
		{ EM_386, "3 (i386)" },
		{ EM_RISCV, "243 (RISC-V)" },
		{ 0x1234, "4660" },
	};
	struct test_image t;
	Elf64_Ehdr eh;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build_full(&t);
		eh = get_ehdr(&t);
		eh.e_machine = cases[i].machine;
		put_ehdr(&t, &eh);
		expect_error(&t, -ENOEXEC, cases[i].name, "is not x86-64 (62)");
	}
}

Test(elf, not_an_executable)
{
	struct test_image t;
	Elf64_Ehdr eh;

	build_full(&t);
	eh = get_ehdr(&t);
	eh.e_type = ET_DYN;
	put_ehdr(&t, &eh);
	expect_error(&t, -ENOEXEC, "ELF type 3", "ET_EXEC");
}

Test(elf, phdr_table_past_end)
{
	struct test_image t;
	Elf64_Ehdr eh;

	build_full(&t);
	eh = get_ehdr(&t);
	eh.e_phoff = IMG_BYTES - 100;
	put_ehdr(&t, &eh);
	expect_error(&t, -EINVAL, "program header table",
		     "extends past the end of the image (608 bytes)");
}

Test(elf, phdr_table_offset_overflows)
{
	struct test_image t;
	Elf64_Ehdr eh;

	build_full(&t);
	eh = get_ehdr(&t);
	eh.e_phoff = UINT64_MAX - 8; /* offset + size wraps around */
	put_ehdr(&t, &eh);
	expect_error(&t, -EINVAL, "program header table", "extends past");
}

Test(elf, bad_phentsize)
{
	struct test_image t;
	Elf64_Ehdr eh;

	build_full(&t);
	eh = get_ehdr(&t);
	eh.e_phentsize = 32;
	put_ehdr(&t, &eh);
	expect_error(&t, -EINVAL, "e_phentsize 32 is not 56", NULL);
}

Test(elf, no_load_segment)
{
	struct test_image t;
	Elf64_Ehdr eh;

	build_full(&t);
	eh = get_ehdr(&t);
	eh.e_phnum = 1; /* only the PT_NOTE */
	put_ehdr(&t, &eh);
	expect_error(&t, -EINVAL, "no PT_LOAD segment", NULL);

	build_full(&t);
	eh = get_ehdr(&t);
	eh.e_phnum = 0;
	put_ehdr(&t, &eh);
	expect_error(&t, -EINVAL, "no PT_LOAD segment", NULL);
}

Test(elf, segment_file_data_past_end)
{
	struct test_image t;
	Elf64_Phdr ph;

	build_full(&t);
	ph = get_phdr(&t, 2);
	ph.p_filesz = 0x100;
	put_phdr(&t, 2, &ph);
	expect_error(&t, -EINVAL, "segment 2: file data [0x240, 0x340)",
		     "extends past the end of the image (608 bytes)");
}

Test(elf, segment_file_offset_overflows)
{
	struct test_image t;
	Elf64_Phdr ph;

	build_full(&t);
	ph = get_phdr(&t, 1);
	ph.p_offset = UINT64_MAX - 0x10;
	put_phdr(&t, 1, &ph);
	expect_error(&t, -EINVAL, "segment 1: file data", "extends past");
}

Test(elf, filesz_greater_than_memsz)
{
	struct test_image t;
	Elf64_Phdr ph;

	build_full(&t);
	ph = get_phdr(&t, 1);
	ph.p_memsz = 0x20;
	put_phdr(&t, 1, &ph);
	expect_error(&t, -EINVAL, "segment 1: p_filesz 0x40 > p_memsz 0x20",
		     NULL);
}

Test(elf, address_range_overflows)
{
	struct test_image t;
	Elf64_Phdr ph;

	build_full(&t);
	ph = get_phdr(&t, 2);
	ph.p_paddr = UINT64_MAX - 0x1000;
	put_phdr(&t, 2, &ph);
	expect_error(&t, -EINVAL, "segment 2: address range overflows", NULL);
}

Test(elf, overlapping_segments)
{
	struct test_image t;
	Elf64_Phdr ph;

	build_full(&t);
	ph = get_phdr(&t, 2);
	ph.p_paddr = TEXT_GPA + 0xfff; /* last byte of text's memsz */
	put_phdr(&t, 2, &ph);
	expect_error(&t, -EINVAL, "segments 1 and 2 overlap",
		     "physical memory");

	/* Adjacent is fine. */
	ph.p_paddr = TEXT_GPA + 0x1000;
	put_phdr(&t, 2, &ph);
	cr_assert_eq(parse(&t), 0, "%s", t.err);
}

/* ELF_MAX_SEGMENTS + 1 PT_LOADs need more room than the standard image. */
Test(elf, too_many_load_segments)
{
	unsigned char buf[PHDR_OFF + (ELF_MAX_SEGMENTS + 1) * sizeof(Elf64_Phdr)];
	unsigned int i, n = ELF_MAX_SEGMENTS + 1;
	struct test_image t;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	build_image(&t, &(struct img_opts){ 0 });
	eh = get_ehdr(&t);
	eh.e_phnum = (uint16_t)n;
	memcpy(buf, &eh, sizeof(eh));
	for (i = 0; i < n; i++) {
		ph = (Elf64_Phdr){ .p_type = PT_LOAD,
				   .p_paddr = TEXT_GPA + i * 0x1000ull,
				   .p_memsz = 0x1000 };
		memcpy(buf + PHDR_OFF + i * sizeof(ph), &ph, sizeof(ph));
	}
	cr_assert_eq(elf_parse(buf, sizeof(buf), &t.img, t.err,
			       sizeof(t.err)),
		     -EINVAL, "%s", t.err);
	cr_assert(strstr(t.err, "too many PT_LOAD segments (max 16)"), "%s",
		  t.err);

	/* Exactly the maximum is accepted. */
	eh.e_phnum = ELF_MAX_SEGMENTS;
	memcpy(buf, &eh, sizeof(eh));
	cr_assert_eq(elf_parse(buf, sizeof(buf), &t.img, t.err,
			       sizeof(t.err)),
		     0, "%s", t.err);
	cr_assert_eq(t.img.nr_segs, ELF_MAX_SEGMENTS);
	cr_assert_eq(t.img.lowest_paddr, TEXT_GPA);
	cr_assert_eq(t.img.highest_paddr_end, TEXT_GPA + 16 * 0x1000ull);
}

Test(elf, empty_load_segment_is_skipped)
{
	struct test_image t;
	Elf64_Phdr ph;

	build_full(&t);
	ph = get_phdr(&t, 2);
	ph.p_filesz = 0;
	ph.p_memsz = 0;
	ph.p_paddr = TEXT_GPA; /* would overlap if it counted */
	put_phdr(&t, 2, &ph);
	cr_assert_eq(parse(&t), 0, "%s", t.err);
	cr_assert_eq(t.img.nr_segs, 1);
	cr_assert_eq(t.img.highest_paddr_end, TEXT_GPA + 0x1000);
}

Test(elf, note_segment_past_end)
{
	struct test_image t;
	Elf64_Phdr ph;

	build_full(&t);
	ph = get_phdr(&t, 0);
	ph.p_filesz = IMG_BYTES;
	put_phdr(&t, 0, &ph);
	expect_error(&t, -EINVAL, "segment 0: file data", "extends past");
}

Test(elf, note_header_truncated)
{
	struct test_image t;
	Elf64_Phdr ph;

	build_full(&t);
	ph = get_phdr(&t, 0);
	ph.p_filesz = 8; /* cuts the first note's 12-byte header */
	put_phdr(&t, 0, &ph);
	expect_error(&t, -EINVAL, "segment 0: note at offset 0x0",
		     "header truncated");
}

Test(elf, note_namesz_past_segment)
{
	struct test_image t;
	uint32_t namesz = 0xfffffff0u;

	build_full(&t);
	memcpy(t.buf + NOTE_OFF, &namesz, sizeof(namesz));
	expect_error(&t, -EINVAL, "n_namesz 4294967280",
		     "extends past the end of the segment");
}

Test(elf, note_descsz_past_segment)
{
	struct test_image t;
	Elf64_Phdr ph;

	build_full(&t);
	/* Cut the segment inside the AP note's descriptor (at 0x14 + 24). */
	ph = get_phdr(&t, 0);
	ph.p_filesz = 0x14 + 26;
	put_phdr(&t, 0, &ph);
	expect_error(&t, -EINVAL, "note at offset 0x14", "n_descsz 4");
}

Test(elf, entry_outside_segments)
{
	struct test_image t;
	Elf64_Ehdr eh;

	build_image(&t, &(struct img_opts){ 0 });
	eh = get_ehdr(&t);
	eh.e_entry = 0x200000;
	put_ehdr(&t, &eh);
	expect_error(&t, -EINVAL, "e_entry 0x200000",
		     "outside every PT_LOAD segment");

	/* With a PVH note, e_entry is not used and need not be loaded. */
	build_full(&t);
	eh = get_ehdr(&t);
	eh.e_entry = 0xffffffff81000000ull;
	put_ehdr(&t, &eh);
	cr_assert_eq(parse(&t), 0, "%s", t.err);
	cr_assert_eq(t.img.entry, 0xffffffff81000000ull);
}

Test(elf, short_error_buffer)
{
	struct test_image t;
	char err[8];

	build_full(&t);
	t.buf[0] = 0;
	cr_assert_eq(elf_parse(t.buf, sizeof(t.buf), &t.img, err,
			       sizeof(err)),
		     -ENOEXEC);
	cr_assert_str_eq(err, "not an ");
	cr_assert_eq(elf_parse(t.buf, sizeof(t.buf), &t.img, NULL, 0),
		     -ENOEXEC);
}

/*
 * Each length gets its own exact-size heap copy, so a read past len is a
 * read past the allocation (visible under -fsanitize=address).
 */
Test(elf, every_truncation_fails_cleanly)
{
	struct test_image t;
	struct elf_image img;
	char err[256];
	size_t len;
	int ret;

	build_full(&t);
	for (len = 0; len <= IMG_BYTES; len++) {
		unsigned char *copy = malloc(len ? len : 1);

		cr_assert_not_null(copy);
		memcpy(copy, t.buf, len);
		err[0] = '\0';
		ret = elf_parse(copy, len, &img, err, sizeof(err));
		free(copy);
		if (len == IMG_BYTES) {
			cr_assert_eq(ret, 0, "%s", err);
			continue;
		}
		cr_assert(ret == -EINVAL || ret == -ENOEXEC,
			  "len %zu: ret %d", len, ret);
		cr_assert(err[0] != '\0', "len %zu: no message", len);
	}
}

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* What a successful parse promises its caller, whatever the input was. */
static void check_invariants(const struct elf_image *img, size_t len)
{
	unsigned int i;

	cr_assert(img->nr_segs >= 1 && img->nr_segs <= ELF_MAX_SEGMENTS);
	for (i = 0; i < img->nr_segs; i++) {
		const struct elf_segment *s = &img->segs[i];

		cr_assert_leq(s->file_offset, len);
		cr_assert_leq(s->file_bytes, len - s->file_offset);
		cr_assert_leq(s->file_bytes, s->mem_bytes);
		cr_assert_geq(s->paddr, img->lowest_paddr);
		cr_assert_leq(s->paddr + s->mem_bytes, img->highest_paddr_end);
	}
}

/* Random bit flips in headers and notes: never a crash, never a lie. */
Test(elf, random_corruption)
{
	uint64_t seed = 0x6b766d747261636bull;
	struct test_image t;
	unsigned int round, k;
	int ret;

	for (round = 0; round < 20000; round++) {
		build_full(&t);
		for (k = 0; k < 1 + round % 4; k++)
			t.buf[xorshift64(&seed) % (NOTE_OFF + 0x40)] ^=
				(unsigned char)(1u << (xorshift64(&seed) % 8));
		ret = parse(&t);
		if (ret == 0)
			check_invariants(&t.img, sizeof(t.buf));
		else
			cr_assert(t.err[0] != '\0');
	}
}

/* Reads a whole file; returns NULL when it does not exist. */
static unsigned char *read_file(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	FILE *f = fopen(path, "rb");
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size);
		if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)size;
	}
	fclose(f);
	cr_assert_not_null(buf, "reading %s", path);
	return buf;
}

static void parse_file(const char *path, struct elf_image *img)
{
	char err[256];
	size_t len = 0;
	unsigned char *buf = read_file(path, &len);
	int ret;

	if (!buf)
		cr_skip_test("%s is not built", path);
	ret = elf_parse(buf, len, img, err, sizeof(err));
	free(buf);
	cr_assert_eq(ret, 0, "%s: %s", path, err);
	check_invariants(img, len);
}

Test(elf, bundled_guest)
{
	struct elf_image img;

	parse_file("guest/kvmtrack-guest.elf", &img);
	cr_assert_geq(img.lowest_paddr, 0x100000, "linked at 1 MiB");
	cr_assert(img.has_pvh_entry, "the guest boots through PVH");
}

Test(elf, image_hello64)
{
	struct elf_image img;

	parse_file("tests/images/hello64.elf", &img);
	cr_assert_not(img.has_pvh_entry);
	cr_assert_eq(img.lowest_paddr, 0x100000);
	cr_assert_eq(img.entry, 0x100000);
}

Test(elf, image_pvh32)
{
	struct elf_image img;

	parse_file("tests/images/pvh32.elf", &img);
	cr_assert(img.has_pvh_entry);
	cr_assert_eq(img.pvh_entry, 0x100000);
	cr_assert_not(img.has_ap_entry);
}

Test(elf, image_big)
{
	struct elf_image img;

	parse_file("tests/images/big.elf", &img);
	cr_assert_geq(img.highest_paddr_end - img.lowest_paddr,
		      2ull << 30, "2 GiB of .bss");
}
