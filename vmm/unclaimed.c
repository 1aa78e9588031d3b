// SPDX-License-Identifier: MIT
/* Accesses to nothing, answered as an empty PC bus does (see unclaimed.h). */
#include "vmm/unclaimed.h"

#include <stdio.h>

#include "lib/json/json.h"

#define MMIO_PAGE_BYTES 4096ull

void unclaimed_init(struct unclaimed *u)
{
	*u = (struct unclaimed){ 0 };
	pthread_mutex_init(&u->lock, NULL);
}

void unclaimed_destroy(struct unclaimed *u)
{
	pthread_mutex_destroy(&u->lock);
}

/* The entry for addr, made if there is room; NULL when the table is full.
 * *is_new says whether it was just made. Locked. */
static struct unclaimed_addr *entry_of(struct unclaimed_space *s,
				       uint64_t addr, bool *is_new)
{
	*is_new = false;
	for (unsigned int i = 0; i < s->nr_addrs; i++)
		if (s->addrs[i].addr == addr)
			return &s->addrs[i];
	if (s->nr_addrs == UNCLAIMED_MAX_ADDRS)
		return NULL;
	*is_new = true;
	s->addrs[s->nr_addrs] = (struct unclaimed_addr){ .addr = addr };
	return &s->addrs[s->nr_addrs++];
}

bool unclaimed_access(struct unclaimed *u, enum bus_space space, uint64_t addr,
		      uint8_t *data, uint32_t len, bool is_write)
{
	struct unclaimed_addr *e;
	bool is_new;

	if (space == BUS_MMIO)
		addr &= ~(MMIO_PAGE_BYTES - 1);
	if (!is_write)
		bus_data_put(data, len, ~0ull);
	pthread_mutex_lock(&u->lock);
	e = entry_of(&u->space[space], addr, &is_new);
	if (!e)
		u->space[space].others++;
	else if (is_write)
		e->writes++;
	else
		e->reads++;
	pthread_mutex_unlock(&u->lock);
	return is_new;
}

static void space_json(const struct unclaimed_space *s, const char *key,
		       struct jw *w)
{
	char addr[24];

	jw_object_begin(w, key);
	jw_array_begin(w, "addresses");
	for (unsigned int i = 0; i < s->nr_addrs; i++) {
		const struct unclaimed_addr *e = &s->addrs[i];

		/* Hex, as the guest's drivers and the trace name them. */
		snprintf(addr, sizeof(addr), "0x%llx",
			 (unsigned long long)e->addr);
		jw_object_begin(w, NULL);
		jw_string(w, "address", addr);
		jw_u64(w, "reads", e->reads);
		jw_u64(w, "writes", e->writes);
		jw_object_end(w);
	}
	jw_array_end(w);
	jw_u64(w, "others", s->others);
	jw_object_end(w);
}

void unclaimed_stats_json(struct unclaimed *u, struct jw *w)
{
	pthread_mutex_lock(&u->lock);
	jw_object_begin(w, "unclaimed");
	space_json(&u->space[BUS_PIO], "ports", w);
	space_json(&u->space[BUS_MMIO], "mmio", w);
	jw_object_end(w);
	pthread_mutex_unlock(&u->lock);
}
