// SPDX-License-Identifier: MIT
/*
 * ELF64 image parsing. The image comes from the user and may be truncated
 * or hostile: every field is copied out with memcpy (the buffer has no
 * alignment guarantee) and every offset and size is checked against the
 * buffer length with overflow-safe arithmetic before it is used.
 */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmm/boot/elf.h"

/* PT_NOTE segments are small; a bigger one is a broken or hostile image. */
#define NOTE_SEGMENT_MAX_BYTES (1u << 20)

struct note_ctx {
	const unsigned char *data; /* the segment's file data */
	uint64_t bytes;
	unsigned int phdr_index;
	uint64_t align; /* 4, or 8 when p_align says so */
};

__attribute__((format(printf, 4, 5))) static int
elf_fail(char *err, size_t err_len, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* True when [off, off + bytes) lies inside [0, len), without overflowing. */
static bool range_ok(uint64_t off, uint64_t bytes, uint64_t len)
{
	return off <= len && bytes <= len - off;
}

static const char *machine_name(unsigned int machine)
{
	switch (machine) {
	case EM_386:
		return "i386";
	case EM_ARM:
		return "ARM";
	case EM_AARCH64:
		return "AArch64";
	case EM_RISCV:
		return "RISC-V";
	case EM_PPC64:
		return "PowerPC64";
	case EM_S390:
		return "s390";
	case EM_MIPS:
		return "MIPS";
	case EM_NONE:
		return "none";
	default:
		return "unknown";
	}
}

/* Magic, class and data encoding: what makes the rest readable at all. */
static int check_ident(const unsigned char *ident, size_t len, char *err,
		       size_t err_len)
{
	if (len < SELFMAG || memcmp(ident, ELFMAG, SELFMAG) != 0)
		return elf_fail(err, err_len, -ENOEXEC,
				"not an ELF image (bad magic)");
	if (len <= EI_DATA)
		return elf_fail(err, err_len, -EINVAL,
				"ELF identification truncated (%zu bytes)",
				len);
	if (ident[EI_CLASS] != ELFCLASS64)
		return elf_fail(err, err_len, -ENOEXEC,
				"ELF class %u (%s) is not supported: need ELF64",
				ident[EI_CLASS],
				ident[EI_CLASS] == ELFCLASS32 ? "32-bit"
							      : "invalid");
	if (ident[EI_DATA] == ELFDATA2MSB)
		return elf_fail(err, err_len, -ENOEXEC,
				"ELF data encoding is big-endian: need little-endian");
	if (ident[EI_DATA] != ELFDATA2LSB)
		return elf_fail(err, err_len, -ENOEXEC,
				"ELF data encoding %u is invalid: need little-endian",
				ident[EI_DATA]);
	return 0;
}

static int check_header(const Elf64_Ehdr *eh, size_t len, char *err,
			size_t err_len)
{
	uint64_t table_bytes;

	if (eh->e_machine != EM_X86_64)
		return elf_fail(err, err_len, -ENOEXEC,
				"ELF machine %u (%s) is not x86-64 (%u)",
				eh->e_machine, machine_name(eh->e_machine),
				EM_X86_64);
	if (eh->e_type != ET_EXEC)
		return elf_fail(err, err_len, -ENOEXEC,
				"ELF type %u is not an executable (ET_EXEC)",
				eh->e_type);
	if (eh->e_phnum == 0)
		return elf_fail(err, err_len, -EINVAL,
				"no PT_LOAD segment (e_phnum is 0)");
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return elf_fail(err, err_len, -EINVAL,
				"e_phentsize %u is not %zu", eh->e_phentsize,
				sizeof(Elf64_Phdr));
	/* PN_XNUM would move the count into section 0: no linker does that
	 * for a kernel, so refuse rather than trust a second table. */
	if (eh->e_phnum == PN_XNUM)
		return elf_fail(err, err_len, -EINVAL,
				"e_phnum 0x%x (PN_XNUM) is not supported",
				eh->e_phnum);
	table_bytes = (uint64_t)eh->e_phnum * eh->e_phentsize;
	if (!range_ok(eh->e_phoff, table_bytes, len))
		return elf_fail(err, err_len, -EINVAL,
				"program header table (offset 0x%llx, %u entries of %u bytes) extends past the end of the image (%zu bytes)",
				(unsigned long long)eh->e_phoff, eh->e_phnum,
				eh->e_phentsize, len);
	return 0;
}

/* Checks a segment's file data and address range, common to all types. */
static int check_segment(const Elf64_Phdr *ph, unsigned int i, size_t len,
			 char *err, size_t err_len)
{
	if (!range_ok(ph->p_offset, ph->p_filesz, len))
		return elf_fail(err, err_len, -EINVAL,
				"segment %u: file data [0x%llx, 0x%llx) extends past the end of the image (%zu bytes)",
				i, (unsigned long long)ph->p_offset,
				(unsigned long long)(ph->p_offset +
						     ph->p_filesz),
				len);
	if (ph->p_type != PT_LOAD)
		return 0;
	if (ph->p_filesz > ph->p_memsz)
		return elf_fail(err, err_len, -EINVAL,
				"segment %u: p_filesz 0x%llx > p_memsz 0x%llx",
				i, (unsigned long long)ph->p_filesz,
				(unsigned long long)ph->p_memsz);
	if (ph->p_paddr + ph->p_memsz < ph->p_paddr)
		return elf_fail(err, err_len, -EINVAL,
				"segment %u: address range overflows (p_paddr 0x%llx, p_memsz 0x%llx)",
				i, (unsigned long long)ph->p_paddr,
				(unsigned long long)ph->p_memsz);
	return 0;
}

static int add_load(struct elf_image *img, const Elf64_Phdr *ph,
		    unsigned int i, unsigned int *phdr_of_seg, char *err,
		    size_t err_len)
{
	struct elf_segment *seg;

	/* An empty PT_LOAD (linkers emit one for an empty output section)
	 * occupies no memory: nothing to load, nothing to overlap. */
	if (ph->p_memsz == 0)
		return 0;
	if (img->nr_segs == ELF_MAX_SEGMENTS)
		return elf_fail(err, err_len, -EINVAL,
				"too many PT_LOAD segments (max %d)",
				ELF_MAX_SEGMENTS);
	phdr_of_seg[img->nr_segs] = i;
	seg = &img->segs[img->nr_segs++];
	seg->paddr = ph->p_paddr;
	seg->file_offset = ph->p_offset;
	seg->file_bytes = ph->p_filesz;
	seg->mem_bytes = ph->p_memsz;
	return 0;
}

/*
 * Loading one segment over another would make the result depend on load
 * order, and the zeroed tail of one could wipe the other's data.
 */
static int check_overlaps(const struct elf_image *img,
			  const unsigned int *phdr_of_seg, char *err,
			  size_t err_len)
{
	const struct elf_segment *a, *b;
	unsigned int i, j;

	for (i = 0; i < img->nr_segs; i++) {
		for (j = i + 1; j < img->nr_segs; j++) {
			a = &img->segs[i];
			b = &img->segs[j];
			if (a->paddr < b->paddr + b->mem_bytes &&
			    b->paddr < a->paddr + a->mem_bytes)
				return elf_fail(err, err_len, -EINVAL,
						"segments %u and %u overlap in physical memory: [0x%llx, 0x%llx) and [0x%llx, 0x%llx)",
						phdr_of_seg[i], phdr_of_seg[j],
						(unsigned long long)a->paddr,
						(unsigned long long)(a->paddr + a->mem_bytes),
						(unsigned long long)b->paddr,
						(unsigned long long)(b->paddr + b->mem_bytes));
		}
	}
	return 0;
}

static uint64_t align_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/*
 * An entry note's descriptor is 4 bytes, or 8 (Linux emits _ASM_PTR on
 * x86-64) of which the low 32 bits count: the entry runs in 32-bit mode,
 * so an address at or above 4 GiB cannot be reached.
 */
static int read_entry_desc(const struct note_ctx *nc, uint64_t desc_off,
			   uint32_t descsz, const char *what, bool *has,
			   uint32_t *entry, char *err, size_t err_len)
{
	uint64_t v = 0;

	if (*has)
		return elf_fail(err, err_len, -EINVAL,
				"segment %u: more than one %s note",
				nc->phdr_index, what);
	if (descsz != 4 && descsz != 8)
		return elf_fail(err, err_len, -EINVAL,
				"segment %u: %s note descriptor is %u bytes: need 4 or 8",
				nc->phdr_index, what, descsz);
	memcpy(&v, nc->data + desc_off, descsz); /* little-endian host */
	if (v > UINT32_MAX)
		return elf_fail(err, err_len, -EINVAL,
				"segment %u: %s note entry 0x%llx is not below 4 GiB",
				nc->phdr_index, what, (unsigned long long)v);
	*has = true;
	*entry = (uint32_t)v;
	return 0;
}

static bool note_name_is(const struct note_ctx *nc, uint64_t name_off,
			 uint32_t namesz, const char *name)
{
	size_t n = strlen(name) + 1;

	return namesz == n && memcmp(nc->data + name_off, name, n) == 0;
}

/* Walks one note at *off and advances *off past it and its padding. */
static int parse_one_note(const struct note_ctx *nc, uint64_t *off,
			  struct elf_image *img, char *err, size_t err_len)
{
	Elf64_Nhdr nh;
	uint64_t name_off, desc_off, end;

	if (!range_ok(*off, sizeof(nh), nc->bytes))
		return elf_fail(err, err_len, -EINVAL,
				"segment %u: note at offset 0x%llx: header truncated (%llu bytes left, need %zu)",
				nc->phdr_index, (unsigned long long)*off,
				(unsigned long long)(nc->bytes - *off),
				sizeof(nh));
	memcpy(&nh, nc->data + *off, sizeof(nh));
	name_off = *off + sizeof(nh);
	desc_off = name_off + align_up(nh.n_namesz, nc->align);
	end = desc_off + nh.n_descsz;
	/* 32-bit sizes on top of an offset < 1 MiB cannot overflow 64 bits. */
	if (desc_off > nc->bytes || end > nc->bytes)
		return elf_fail(err, err_len, -EINVAL,
				"segment %u: note at offset 0x%llx: n_namesz %u + n_descsz %u (type %u) extends past the end of the segment (%llu bytes)",
				nc->phdr_index, (unsigned long long)*off,
				nh.n_namesz, nh.n_descsz, nh.n_type,
				(unsigned long long)nc->bytes);
	/* The last note's trailing padding may be cut off by the segment. */
	*off = align_up(end, nc->align);
	if (*off > nc->bytes)
		*off = nc->bytes;

	if (note_name_is(nc, name_off, nh.n_namesz, "Xen") &&
	    nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY)
		return read_entry_desc(nc, desc_off, nh.n_descsz, "PVH entry",
				       &img->has_pvh_entry, &img->pvh_entry,
				       err, err_len);
	if (note_name_is(nc, name_off, nh.n_namesz, "kvmtrack") &&
	    nh.n_type == KVMTRACK_NOTE_AP_ENTRY32)
		return read_entry_desc(nc, desc_off, nh.n_descsz,
				       "kvmtrack AP entry", &img->has_ap_entry,
				       &img->ap_entry, err, err_len);
	return 0;
}

static int parse_notes(const unsigned char *buf, const Elf64_Phdr *ph,
		       unsigned int i, struct elf_image *img, char *err,
		       size_t err_len)
{
	struct note_ctx nc = {
		.data = buf + ph->p_offset,
		.bytes = ph->p_filesz,
		.phdr_index = i,
		.align = ph->p_align == 8 ? 8 : 4,
	};
	uint64_t off = 0;
	int ret;

	if (nc.bytes > NOTE_SEGMENT_MAX_BYTES)
		return elf_fail(err, err_len, -EINVAL,
				"segment %u: PT_NOTE p_filesz 0x%llx is larger than %u bytes",
				i, (unsigned long long)nc.bytes,
				NOTE_SEGMENT_MAX_BYTES);
	while (off < nc.bytes) {
		ret = parse_one_note(&nc, &off, img, err, err_len);
		if (ret)
			return ret;
	}
	return 0;
}

static bool inside_a_segment(const struct elf_image *img, uint64_t addr)
{
	unsigned int i;

	for (i = 0; i < img->nr_segs; i++)
		if (addr >= img->segs[i].paddr &&
		    addr - img->segs[i].paddr < img->segs[i].mem_bytes)
			return true;
	return false;
}

/* Bounds and entry checks once every PT_LOAD has been collected. */
static int finish_image(struct elf_image *img, char *err, size_t err_len)
{
	uint64_t entry = img->has_pvh_entry ? img->pvh_entry : img->entry;
	unsigned int i;

	if (img->nr_segs == 0)
		return elf_fail(err, err_len, -EINVAL, "no PT_LOAD segment");
	img->lowest_paddr = UINT64_MAX;
	for (i = 0; i < img->nr_segs; i++) {
		const struct elf_segment *s = &img->segs[i];

		if (s->paddr < img->lowest_paddr)
			img->lowest_paddr = s->paddr;
		if (s->paddr + s->mem_bytes > img->highest_paddr_end)
			img->highest_paddr_end = s->paddr + s->mem_bytes;
	}
	/* Entering outside the loaded image would run whatever RAM holds. */
	if (!inside_a_segment(img, entry))
		return elf_fail(err, err_len, -EINVAL,
				"%s 0x%llx is outside every PT_LOAD segment",
				img->has_pvh_entry ? "PVH entry" : "e_entry",
				(unsigned long long)entry);
	if (img->has_ap_entry && !inside_a_segment(img, img->ap_entry))
		return elf_fail(err, err_len, -EINVAL,
				"kvmtrack AP entry 0x%x is outside every PT_LOAD segment",
				img->ap_entry);
	return 0;
}

static int parse_phdrs(const unsigned char *buf, size_t len,
		       const Elf64_Ehdr *eh, struct elf_image *img, char *err,
		       size_t err_len)
{
	unsigned int phdr_of_seg[ELF_MAX_SEGMENTS];
	Elf64_Phdr ph;
	unsigned int i;
	int ret;

	for (i = 0; i < eh->e_phnum; i++) {
		memcpy(&ph, buf + eh->e_phoff + (uint64_t)i * sizeof(ph),
		       sizeof(ph));
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
			continue;
		ret = check_segment(&ph, i, len, err, err_len);
		if (!ret && ph.p_type == PT_LOAD)
			ret = add_load(img, &ph, i, phdr_of_seg, err, err_len);
		if (!ret && ph.p_type == PT_NOTE)
			ret = parse_notes(buf, &ph, i, img, err, err_len);
		if (ret)
			return ret;
	}
	return check_overlaps(img, phdr_of_seg, err, err_len);
}

int elf_parse(const void *buf, size_t len, struct elf_image *img, char *err,
	      size_t err_len)
{
	Elf64_Ehdr eh;
	int ret;

	memset(img, 0, sizeof(*img));
	if (err && err_len)
		err[0] = '\0';
	ret = check_ident(buf, len, err, err_len);
	if (ret)
		return ret;
	if (len < sizeof(eh))
		return elf_fail(err, err_len, -EINVAL,
				"ELF header truncated (%zu bytes, need %zu)",
				len, sizeof(eh));
	memcpy(&eh, buf, sizeof(eh));
	ret = check_header(&eh, len, err, err_len);
	if (ret)
		return ret;
	img->entry = eh.e_entry;
	ret = parse_phdrs(buf, len, &eh, img, err, err_len);
	if (ret)
		return ret;
	return finish_image(img, err, err_len);
}
