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

#include "vmm/alias/alias_impl.h"
#include "vmm/alias/share.h"
#include "lib/json/json.h"

static void entry_json(const struct alias_entry *e, struct jw *w)
{
	jw_object_begin(w, NULL);
	jw_u64(w, "gpa", e->gpa);
	jw_u64(w, "src_gpa", e->src_gpa);
	jw_u64(w, "size", e->size_bytes);
	jw_u64(w, "writes_trapped", e->writes_trapped);
	jw_u64(w, "slot", e->slot_id);
	jw_string(w, "kind", e->share ? "shared-file" : "alias");
	if (e->share) {
		jw_string(w, "name", e->share->name);
		jw_string(w, "path", e->share->path);
		jw_u64(w, "file_bytes", e->share->file_bytes);
	}
	jw_object_end(w);
}

static void info_of(const struct alias_entry *e, struct alias_info *out)
{
	memset(out, 0, sizeof(*out));
	out->file = e->share != NULL;
	out->gpa = e->gpa;
	out->size_bytes = e->size_bytes;
	out->src_gpa = e->src_gpa;
	if (e->share) {
		snprintf(out->name, sizeof(out->name), "%s", e->share->name);
		out->file_bytes = e->share->file_bytes;
		out->hva = e->share->hva;
	}
}

unsigned int alias_snapshot(const struct guest_mem *m, struct alias_info *out,
			    unsigned int max)
{
	struct alias_table *t = m->aliases;
	unsigned int n = 0;

	if (!t)
		return 0;
	pthread_mutex_lock(&t->lock);
	for (int files = 1; files >= 0; files--)
		for (unsigned int i = 0; i < t->nr_entries; i++)
			if ((t->entries[i].share != NULL) == files && n < max)
				info_of(&t->entries[i], &out[n++]);
	pthread_mutex_unlock(&t->lock);
	return n;
}

void alias_list_json(const struct guest_mem *m, struct jw *w)
{
	struct alias_table *t = m->aliases;

	jw_array_begin(w, NULL);
	if (t) {
		pthread_mutex_lock(&t->lock);
		for (unsigned int i = 0; i < t->nr_entries; i++)
			entry_json(&t->entries[i], w);
		pthread_mutex_unlock(&t->lock);
	}
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
	struct alias_table *t = m->aliases;
	uint64_t first;

	jw_object_begin(w, "aliases");
	if (t) {
		pthread_mutex_lock(&t->lock);
		jw_u64(w, "count", t->nr_entries);
		jw_u64(w, "writes_trapped", t->writes_trapped);
		jw_string(w, "write_policy", alias_write_policy_name(t->policy));
		/* Oldest first, at most the last ALIAS_LOG_RECORDS. */
		first = t->nr_records > ALIAS_LOG_RECORDS
				? t->nr_records - ALIAS_LOG_RECORDS
				: 0;
		jw_array_begin(w, "last_writes");
		for (uint64_t i = first; i < t->nr_records; i++)
			record_json(&t->last[i % ALIAS_LOG_RECORDS], w);
		jw_array_end(w);
		pthread_mutex_unlock(&t->lock);
	}
	jw_object_end(w);
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

static int entry_node(void *fdt, int parent, const struct alias_entry *e)
{
	char name[48];
	int node, ret;

	snprintf(name, sizeof(name), "%s@%llx", e->share ? "file" : "alias",
		 (unsigned long long)e->gpa);
	node = fdt_add_subnode(fdt, parent, name);
	if (node < 0)
		return node;
	ret = fdt_setprop_string(fdt, node, "compatible",
				 e->share ? "kvmtrack,shared-file"
					  : "kvmtrack,memory-alias");
	ret = ret ?: add_reg(fdt, node, e->gpa, e->size_bytes);
	ret = ret ?: fdt_setprop_u32(fdt, node, "kvmtrack,slot", e->slot_id);
	if (e->share) {
		ret = ret ?: fdt_setprop_string(fdt, node, "kvmtrack,name",
						e->share->name);
		ret = ret ?: fdt_setprop_u64(fdt, node, "kvmtrack,file-bytes",
					     e->share->file_bytes);
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
	struct alias_table *t = m->aliases;
	int aliases = -1, files = -1, ret = 0;

	if (!t)
		return 0;
	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < t->nr_entries && ret >= 0; i++) {
		const struct alias_entry *e = &t->entries[i];
		int *parent = e->share ? &files : &aliases;

		if (*parent < 0)
			*parent = ret = add_parent(fdt, e->share ? "shared-files"
								 : "memory-aliases");
		if (ret >= 0)
			ret = entry_node(fdt, *parent, e);
	}
	pthread_mutex_unlock(&t->lock);
	return ret < 0 ? ret : 0;
}
