// SPDX-License-Identifier: MIT
/*
 * Read-only windows (alias.h): their JSON for the control socket, and
 * their device-tree nodes. Their command-line syntax is in spec.c.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json/json.h"
#include "vmm/alias/alias.h"
#include "vmm/mem/memory.h"

static void entry_json(const struct alias_info *e, struct jw *w)
{
	jw_object_begin(w, NULL);
	jw_u64(w, "gpa", e->gpa);
	jw_u64(w, "src_gpa", e->src_gpa);
	jw_u64(w, "size", e->size_bytes);
	jw_u64(w, "writes_trapped", e->writes_trapped);
	jw_u64(w, "slot", e->slot_id);
	jw_string(w, "kind", e->file ? "shared-file" : "alias");
	if (e->file) {
		jw_string(w, "name", e->name);
		jw_string(w, "path", e->path);
		jw_u64(w, "file_bytes", e->file_bytes);
	}
	jw_object_end(w);
}

unsigned int alias_snapshot(const struct guest_mem *m, struct alias_info *out,
			    unsigned int max)
{
	struct alias_info all[MEM_MAX_SLOTS];
	unsigned int nr = alias_list(m, all, MEM_MAX_SLOTS), n = 0;

	for (int files = 1; files >= 0; files--)
		for (unsigned int i = 0; i < nr; i++)
			if (all[i].file == files && n < max)
				out[n++] = all[i];
	return n;
}

void alias_list_json(const struct guest_mem *m, struct jw *w)
{
	struct alias_info win[MEM_MAX_SLOTS];
	unsigned int n = alias_list(m, win, MEM_MAX_SLOTS);

	jw_array_begin(w, NULL);
	for (unsigned int i = 0; i < n; i++)
		entry_json(&win[i], w);
	jw_array_end(w);
}

static void record_json(const struct alias_write_record *r, struct jw *w)
{
	jw_object_begin(w, NULL);
	jw_u64(w, "vcpu", r->vcpu);
	jw_u64(w, "gpa", r->gpa);
	jw_u64(w, "alias_gpa", r->alias_gpa);
	jw_u64(w, "size", r->len);
	jw_u64(w, "value", r->value);
	jw_string(w, "insn", r->insn);
	jw_object_end(w);
}

void alias_stats_json(const struct guest_mem *m, struct jw *w)
{
	struct alias_stats st;

	jw_object_begin(w, "aliases");
	if (alias_stats(m, &st)) {
		jw_u64(w, "count", st.count);
		jw_u64(w, "writes_trapped", st.writes_trapped);
		jw_string(w, "write_policy",
			  alias_write_policy_name(st.policy));
		jw_array_begin(w, "last_writes");
		for (unsigned int i = 0; i < st.nr_last; i++)
			record_json(&st.last[i], w);
		jw_array_end(w);
	}
	jw_object_end(w);
}

unsigned int alias_count(const struct guest_mem *m)
{
	struct alias_stats st;

	return alias_stats(m, &st) ? st.count : 0;
}

uint64_t alias_writes_trapped(const struct guest_mem *m)
{
	struct alias_stats st;

	return alias_stats(m, &st) ? st.writes_trapped : 0;
}

static int add_reg(void *fdt, int node, uint64_t gpa, uint64_t size)
{
	int ret = fdt_appendprop_u64(fdt, node, "reg", gpa);

	return ret ?: fdt_appendprop_u64(fdt, node, "reg", size);
}

static int add_parent(void *fdt, const char *name)
{
	int node = fdt_add_subnode(fdt, 0, name);
	int ret = node < 0 ? node : 0;

	ret = ret ?: fdt_setprop_u32(fdt, node, "#address-cells", 2);
	ret = ret ?: fdt_setprop_u32(fdt, node, "#size-cells", 2);
	return ret ?: node;
}

static int entry_node(void *fdt, int parent, const struct alias_info *e)
{
	char name[48];
	int node, ret;

	snprintf(name, sizeof(name), "%s@%llx", e->file ? "file" : "alias",
		 (unsigned long long)e->gpa);
	node = fdt_add_subnode(fdt, parent, name);
	if (node < 0)
		return node;
	ret = fdt_setprop_string(fdt, node, "compatible",
				 e->file ? "kvmtrack,shared-file"
					  : "kvmtrack,memory-alias");
	ret = ret ?: add_reg(fdt, node, e->gpa, e->size_bytes);
	ret = ret ?: fdt_setprop_u32(fdt, node, "kvmtrack,slot", e->slot_id);
	if (e->file) {
		ret = ret ?: fdt_setprop_string(fdt, node, "kvmtrack,name",
						e->name);
		ret = ret ?: fdt_setprop_u64(fdt, node, "kvmtrack,file-bytes",
					     e->file_bytes);
	} else {
		ret = ret ?: fdt_setprop_u64(fdt, node, "kvmtrack,src-gpa",
					     e->src_gpa);
	}
	return ret;
}

/*
 * Not "/aliases": that standard node maps names to node paths. Every
 * window made so far is described; later ones are the guest's to learn
 * otherwise (the tree is read at boot).
 */
int alias_fdt_nodes(const struct guest_mem *m, void *fdt)
{
	struct alias_info win[MEM_MAX_SLOTS];
	unsigned int n = alias_list(m, win, MEM_MAX_SLOTS);
	int aliases = -1, files = -1, ret = 0;

	for (unsigned int i = 0; i < n && ret >= 0; i++) {
		const struct alias_info *e = &win[i];
		int *parent = e->file ? &files : &aliases;

		if (*parent < 0)
			*parent = ret = add_parent(fdt, e->file ? "shared-files"
								: "memory-aliases");
		if (ret >= 0)
			ret = entry_node(fdt, *parent, e);
	}
	return ret < 0 ? ret : 0;
}
