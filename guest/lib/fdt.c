// SPDX-License-Identifier: MIT
/*
 * A minimal flattened device tree reader: just enough to walk the
 * structure block, find a node by path or compatible string and read its
 * properties. Offsets are into the structure block and point at a node's
 * FDT_BEGIN_NODE token. Every read is bounds-checked against the header's
 * sizes, so a corrupt blob yields "not found", never a wild read.
 */
#include "guest/lib/fdt.h"

#include <stddef.h>

#include "guest/lib/sizes.h"
#include "guest/lib/string.h"

#define FDT_MAGIC 0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9

struct fdt_header {
	uint32_t magic;
	uint32_t totalsize;
	uint32_t off_dt_struct;
	uint32_t off_dt_strings;
	uint32_t off_mem_rsvmap;
	uint32_t version;
	uint32_t last_comp_version;
	uint32_t boot_cpuid_phys;
	uint32_t size_dt_strings;
	uint32_t size_dt_struct;
};

uint32_t fdt_be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

uint64_t fdt_be64(const void *p)
{
	return (uint64_t)fdt_be32(p) << 32 | fdt_be32((const uint8_t *)p + 4);
}

static uint32_t hdr(const void *fdt, size_t field_off)
{
	return fdt_be32((const uint8_t *)fdt + field_off);
}

#define HDR(fdt, field) hdr(fdt, offsetof(struct fdt_header, field))

static const uint8_t *dt_struct(const void *fdt)
{
	return (const uint8_t *)fdt + HDR(fdt, off_dt_struct);
}

bool fdt_valid(const void *fdt, uint64_t max_bytes)
{
	uint64_t total;

	if (max_bytes < sizeof(struct fdt_header) ||
	    HDR(fdt, magic) != FDT_MAGIC)
		return false;
	total = HDR(fdt, totalsize);
	if (total > max_bytes || HDR(fdt, version) < 16)
		return false;
	return (uint64_t)HDR(fdt, off_dt_struct) + HDR(fdt, size_dt_struct) <=
		       total &&
	       (uint64_t)HDR(fdt, off_dt_strings) +
			       HDR(fdt, size_dt_strings) <=
		       total;
}

/*
 * Reads the token at *off and advances *off past it and its payload.
 * Returns the token, or FDT_END when the block is exhausted or malformed.
 */
static uint32_t next_token(const void *fdt, int *off, const char **name,
			   const void **val, uint32_t *val_len)
{
	const uint8_t *s = dt_struct(fdt);
	uint32_t size = HDR(fdt, size_dt_struct);
	uint32_t o = *off, tok, len, nameoff;

	if (o + 4 > size)
		return FDT_END;
	tok = fdt_be32(s + o);
	o += 4;
	switch (tok) {
	case FDT_BEGIN_NODE:
		len = strnlen((const char *)s + o, size - o);
		if (o + len >= size)
			return FDT_END;
		if (name)
			*name = (const char *)s + o;
		o = ALIGN_UP(o + len + 1, 4);
		break;
	case FDT_PROP:
		if (o + 8 > size)
			return FDT_END;
		len = fdt_be32(s + o);
		nameoff = fdt_be32(s + o + 4);
		o += 8;
		if (len > size - o || nameoff >= HDR(fdt, size_dt_strings))
			return FDT_END;
		if (name)
			*name = (const char *)fdt + HDR(fdt, off_dt_strings) +
				nameoff;
		if (val)
			*val = s + o;
		if (val_len)
			*val_len = len;
		o = ALIGN_UP(o + len, 4);
		break;
	case FDT_END_NODE:
	case FDT_NOP:
		break;
	default:
		return FDT_END;
	}
	*off = o;
	return tok;
}

/* "memory" matches "memory@0"; a component with '@' must match exactly. */
static bool name_matches(const char *name, const char *comp, size_t len)
{
	if (strncmp(name, comp, len))
		return false;
	return name[len] == '\0' ||
	       (name[len] == '@' && !memchr(comp, '@', len));
}

int fdt_path_offset(const void *fdt, const char *path)
{
	int off = 0, depth = -1, matched = 0, at;
	const char *name = NULL;
	size_t len;
	uint32_t tok;

	while (*path == '/')
		path++;
	for (;;) {
		at = off;
		tok = next_token(fdt, &off, &name, NULL, NULL);
		if (tok == FDT_END)
			return -1;
		if (tok == FDT_END_NODE && --depth < matched)
			return -1;
		if (tok != FDT_BEGIN_NODE)
			continue;
		if (++depth == 0) {
			if (!*path)
				return at;
			continue;
		}
		if (depth != matched + 1)
			continue;
		for (len = 0; path[len] && path[len] != '/'; len++)
			;
		if (!name_matches(name, path, len))
			continue;
		matched++;
		path += len;
		while (*path == '/')
			path++;
		if (!*path)
			return at;
	}
}

const void *fdt_getprop(const void *fdt, int node, const char *name,
			uint32_t *len_bytes)
{
	int off = node;
	const char *pname;
	const void *val;
	uint32_t tok, len;

	if (node < 0 || next_token(fdt, &off, NULL, NULL, NULL) !=
				FDT_BEGIN_NODE)
		return NULL;
	/* Properties come before the first child node. */
	for (;;) {
		tok = next_token(fdt, &off, &pname, &val, &len);
		if (tok == FDT_NOP)
			continue;
		if (tok != FDT_PROP)
			return NULL;
		if (!strcmp(pname, name)) {
			if (len_bytes)
				*len_bytes = len;
			return val;
		}
	}
}

static bool stringlist_has(const char *list, uint32_t len, const char *s)
{
	size_t n = strlen(s);
	uint32_t i = 0;

	while (i < len) {
		size_t item = strnlen(list + i, len - i);

		if (item == n && !memcmp(list + i, s, n))
			return true;
		i += item + 1;
	}
	return false;
}

int fdt_node_compatible(const void *fdt, int from, const char *compat)
{
	int off = from < 0 ? 0 : from, at;
	const char *compat_val;
	uint32_t tok, len;

	if (from >= 0)
		next_token(fdt, &off, NULL, NULL, NULL);
	for (;;) {
		at = off;
		tok = next_token(fdt, &off, NULL, NULL, NULL);
		if (tok == FDT_END)
			return -1;
		if (tok != FDT_BEGIN_NODE)
			continue;
		compat_val = fdt_getprop(fdt, at, "compatible", &len);
		if (compat_val && stringlist_has(compat_val, len, compat))
			return at;
	}
}

uint32_t fdt_count_children(const void *fdt, int node, const char *prefix)
{
	int off = node, depth = 0;
	size_t plen = strlen(prefix);
	const char *name = NULL;
	uint32_t tok, count = 0;

	if (node < 0 || next_token(fdt, &off, NULL, NULL, NULL) !=
				FDT_BEGIN_NODE)
		return 0;
	for (;;) {
		tok = next_token(fdt, &off, &name, NULL, NULL);
		if (tok == FDT_END)
			return count;
		if (tok == FDT_END_NODE && --depth < 0)
			return count;
		if (tok == FDT_BEGIN_NODE && ++depth == 1 &&
		    !strncmp(name, prefix, plen))
			count++;
	}
}
