/* SPDX-License-Identifier: MIT */
/*
 * Reading a flattened device tree. Node offsets are into the structure
 * block; every read is bounds-checked, so a corrupt blob reads as "not
 * found".
 */
#ifndef KVMTRACK_GUEST_LIB_FDT_H
#define KVMTRACK_GUEST_LIB_FDT_H

#include <stdbool.h>
#include <stdint.h>

/* Whether fdt, of at most max_bytes, is a version 16+ blob whose blocks lie
 * inside its total size: the other functions assume it is. */
bool fdt_valid(const void *fdt, uint64_t max_bytes);
/* Returns the structure-block offset of the node at path, or -1. */
int fdt_path_offset(const void *fdt, const char *path);
/* Next node after offset `from` (-1: from the start) whose compatible
 * list holds compat, or -1. */
int fdt_node_compatible(const void *fdt, int from, const char *compat);
/* Value of property name of the node at offset, or NULL; *len_bytes set. */
const void *fdt_getprop(const void *fdt, int node, const char *name,
			uint32_t *len_bytes);
/* Number of direct children of node whose name starts with prefix. */
uint32_t fdt_count_children(const void *fdt, int node, const char *prefix);
/* Big-endian cells, as properties hold them; p need not be aligned. */
uint32_t fdt_be32(const void *p);
uint64_t fdt_be64(const void *p);

#endif
