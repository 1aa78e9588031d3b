// SPDX-License-Identifier: MIT
/* The checkpoint manifest's codec (see manifest.h). */
#include "checkpoint/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/crc32c.h"
#include "lib/wire.h"
#include "migrate/page_hash.h"

const char *const ckpt_file_names[CKPT_NR_FILES] = {
	[CKPT_FILE_STATE] = "state",
	[CKPT_FILE_PAGES] = "pages",
	[CKPT_FILE_MEMORY] = "memory",
};

uint64_t ckpt_bytes_digest(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t sum = 0, block[GUEST_PAGE_BYTES / 8];

	for (size_t off = 0; off < len; off += GUEST_PAGE_BYTES) {
		size_t n = len - off < GUEST_PAGE_BYTES ? len - off
							: GUEST_PAGE_BYTES;

		/* A copy: page_hash() reads whole aligned words. */
		memset(block, 0, sizeof(block));
		memcpy(block, p + off, n);
		sum += page_digest_term(off, page_hash(block));
	}
	return sum;
}

static void put_machine(const struct ckpt_machine *mc, struct wbuf *w)
{
	wbuf_put_u64(w, mc->mem_bytes);
	wbuf_put_u32(w, mc->nr_cpus);
	wbuf_put_str(w, mc->cmdline);
	wbuf_put_str(w, mc->devices);
	wbuf_put_u32(w, mc->fdt_bytes);
	wbuf_put_bytes(w, mc->fdt, mc->fdt_bytes);
	wbuf_put_u32(w, mc->windows_bytes);
	wbuf_put_bytes(w, mc->windows, mc->windows_bytes);
}

/* Version 3's MAC section; its tag covers everything before it. */
static void put_auth(const struct ckpt_auth *a, const struct ckpt_key *key,
		     struct wbuf *w)
{
	uint8_t sha[CKPT_SHA256_BYTES], tag[CKPT_TAG_BYTES];

	wbuf_put_u32(w, a->kind);
	wbuf_put_str(w, a->identity);
	wbuf_put_bytes(w, a->parent_tag, CKPT_TAG_BYTES);
	wbuf_put_bytes(w, a->merged_from_tag, CKPT_TAG_BYTES);
	wbuf_put_bytes(w, a->state_tag, CKPT_TAG_BYTES);
	wbuf_put_bytes(w, a->pages_tag, CKPT_TAG_BYTES);
	if (w->err)
		return;
	ckpt_sha256(w->data, w->len, sha);
	ckpt_mac_manifest(key, sha, tag);
	wbuf_put_bytes(w, tag, CKPT_TAG_BYTES);
}

int ckpt_manifest_encode(const struct ckpt_manifest *m,
			 const struct ckpt_key *key, struct wbuf *w)
{
	bool authenticated = m->auth.kind != CKPT_AUTH_NONE;

	if (m->machine.fdt_bytes > CKPT_FDT_MAX_BYTES ||
	    m->machine.windows_bytes > CKPT_WINDOWS_MAX_BYTES ||
	    m->nr_regions > MEM_MAX_REGIONS)
		return -E2BIG;
	if (authenticated && (!key || m->auth.kind != CKPT_AUTH_HMAC_SHA256))
		return -EINVAL;
	wbuf_put_u64(w, CKPT_MAGIC);
	wbuf_put_u32(w, authenticated ? CKPT_VERSION : 2u);
	wbuf_put_str(w, m->name);
	wbuf_put_str(w, m->parent);
	wbuf_put_u64(w, m->parent_digest);
	wbuf_put_u64(w, m->created_unix_ns);
	wbuf_put_u64(w, m->pause_ns);
	wbuf_put_u64(w, m->merged_from);
	put_machine(&m->machine, w);
	wbuf_put_u32(w, m->nr_regions);
	for (unsigned int i = 0; i < m->nr_regions; i++) {
		wbuf_put_u64(w, m->regions[i].gpa);
		wbuf_put_u64(w, m->regions[i].size_bytes);
		wbuf_put_u64(w, m->regions[i].file_offset);
		wbuf_put_u64(w, m->regions[i].held_pages);
	}
	wbuf_put_u32(w, CKPT_NR_FILES);
	for (unsigned int i = 0; i < CKPT_NR_FILES; i++) {
		wbuf_put_str(w, ckpt_file_names[i]);
		wbuf_put_u64(w, m->files[i].size_bytes);
		wbuf_put_u64(w, m->files[i].digest);
	}
	if (authenticated)
		put_auth(&m->auth, key, w);
	if (!w->err)
		wbuf_put_u32(w, crc32c(0, w->data, w->len));
	return w->err;
}

/* A length-prefixed blob of at most max bytes into out. */
static uint32_t get_blob(struct rbuf *r, void *out, uint32_t max)
{
	uint32_t n = rbuf_get_u32(r);

	if (n > max) {
		r->err = -EBADMSG;
		return 0;
	}
	rbuf_get_bytes(r, out, n);
	return n;
}

static void get_machine(struct rbuf *r, struct ckpt_machine *mc)
{
	mc->mem_bytes = rbuf_get_u64(r);
	mc->nr_cpus = rbuf_get_u32(r);
	rbuf_get_str(r, mc->cmdline, sizeof(mc->cmdline));
	rbuf_get_str(r, mc->devices, sizeof(mc->devices));
	mc->fdt_bytes = get_blob(r, mc->fdt, CKPT_FDT_MAX_BYTES);
	mc->windows_bytes = get_blob(r, mc->windows, CKPT_WINDOWS_MAX_BYTES);
}

/* Names are what the chain directory lists: digits only. */
static bool name_ok(const char *name, bool may_be_empty)
{
	if (!name[0])
		return may_be_empty;
	return strspn(name, "0123456789") == strlen(name);
}

/* The regions must tile the memory file in order and fit the RAM. */
static int check_regions(const struct ckpt_manifest *m, char *err,
			 size_t err_len)
{
	uint64_t offset = 0;

	for (unsigned int i = 0; i < m->nr_regions; i++) {
		const struct ckpt_region *g = &m->regions[i];

		if (g->file_offset != offset || g->size_bytes % GUEST_PAGE_BYTES ||
		    g->held_pages > g->size_bytes / GUEST_PAGE_BYTES) {
			snprintf(err, err_len, "region %u is malformed", i);
			return -EINVAL;
		}
		offset += g->size_bytes;
	}
	if (offset != m->machine.mem_bytes ||
	    m->files[CKPT_FILE_MEMORY].size_bytes != offset) {
		snprintf(err, err_len,
			 "the regions (%llu bytes) do not match the RAM size or the memory file",
			 (unsigned long long)offset);
		return -EINVAL;
	}
	if (m->files[CKPT_FILE_PAGES].size_bytes != ckpt_pages_file_bytes(m)) {
		snprintf(err, err_len,
			 "the pages file's size does not match the held pages");
		return -EINVAL;
	}
	return 0;
}

static int get_files(struct rbuf *r, struct ckpt_manifest *m, char *err,
		     size_t err_len)
{
	uint32_t n = rbuf_get_u32(r);

	if (!r->err && n != CKPT_NR_FILES) {
		snprintf(err, err_len, "%u files listed, %u expected", n,
			 CKPT_NR_FILES);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < CKPT_NR_FILES && !r->err; i++) {
		char name[16];

		rbuf_get_str(r, name, sizeof(name));
		m->files[i].size_bytes = rbuf_get_u64(r);
		m->files[i].digest = rbuf_get_u64(r);
		if (!r->err && strcmp(name, ckpt_file_names[i])) {
			snprintf(err, err_len, "file %u is '%s', expected '%s'",
				 i, name, ckpt_file_names[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int get_auth(struct rbuf *r, struct ckpt_auth *a, char *err,
		    size_t err_len)
{
	a->kind = rbuf_get_u32(r);
	if (r->err || a->kind == CKPT_AUTH_NONE)
		return 0;
	if (a->kind != CKPT_AUTH_HMAC_SHA256) {
		snprintf(err, err_len, "MAC kind %u, this kvmtrack knows 1",
			 a->kind);
		return -EINVAL;
	}
	rbuf_get_str(r, a->identity, sizeof(a->identity));
	rbuf_get_bytes(r, a->parent_tag, CKPT_TAG_BYTES);
	rbuf_get_bytes(r, a->merged_from_tag, CKPT_TAG_BYTES);
	rbuf_get_bytes(r, a->state_tag, CKPT_TAG_BYTES);
	rbuf_get_bytes(r, a->pages_tag, CKPT_TAG_BYTES);
	if (!r->err)
		ckpt_sha256(r->data, r->pos, a->body_sha256);
	rbuf_get_bytes(r, a->tag, CKPT_TAG_BYTES);
	if (!r->err && !a->identity[0]) {
		snprintf(err, err_len, "an authenticated manifest without identity");
		return -EINVAL;
	}
	return 0;
}

static int get_body(struct rbuf *r, uint32_t version, struct ckpt_manifest *m,
		    char *err, size_t err_len)
{
	rbuf_get_str(r, m->name, sizeof(m->name));
	rbuf_get_str(r, m->parent, sizeof(m->parent));
	m->parent_digest = rbuf_get_u64(r);
	m->created_unix_ns = rbuf_get_u64(r);
	m->pause_ns = rbuf_get_u64(r);
	m->merged_from = version >= 2 ? rbuf_get_u64(r) : 0;
	if (!r->err && m->merged_from && m->parent[0]) {
		snprintf(err, err_len, "a merged checkpoint with a parent");
		return -EINVAL;
	}
	get_machine(r, &m->machine);
	m->nr_regions = rbuf_get_u32(r);
	if (!r->err && (m->nr_regions < 1 || m->nr_regions > MEM_MAX_REGIONS)) {
		snprintf(err, err_len, "%u regions", m->nr_regions);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < m->nr_regions && !r->err; i++) {
		m->regions[i].gpa = rbuf_get_u64(r);
		m->regions[i].size_bytes = rbuf_get_u64(r);
		m->regions[i].file_offset = rbuf_get_u64(r);
		m->regions[i].held_pages = rbuf_get_u64(r);
	}
	return get_files(r, m, err, err_len)
		   ?: (version >= 3 ? get_auth(r, &m->auth, err, err_len) : 0);
}

int ckpt_manifest_decode(const void *data, size_t len, struct ckpt_manifest *m,
			 char *err, size_t err_len)
{
	struct rbuf r;
	uint32_t version;
	int ret;

	memset(m, 0, sizeof(*m));
	if (len < 16 || len > CKPT_MANIFEST_MAX_BYTES) {
		snprintf(err, err_len, "%zu bytes: not a manifest", len);
		return -EBADMSG;
	}
	rbuf_init(&r, data, len - 4);
	if (rbuf_get_u64(&r) != CKPT_MAGIC) {
		snprintf(err, err_len, "bad magic: not a kvmtrack checkpoint");
		return -EBADMSG;
	}
	/* The CRC before the version: a flipped version byte is damage. */
	if (crc32c(0, data, len - 4) != get_le32((const uint8_t *)data + len - 4)) {
		snprintf(err, err_len, "CRC mismatch: the manifest is corrupted");
		return -EBADMSG;
	}
	version = rbuf_get_u32(&r);
	if (version < 1 || version > CKPT_VERSION) {
		snprintf(err, err_len,
			 "format version %u, this kvmtrack reads 1 to %u",
			 version, CKPT_VERSION);
		return -EINVAL;
	}
	ret = get_body(&r, version, m, err, err_len);
	if (!ret && (r.err || rbuf_left(&r))) {
		snprintf(err, err_len, "malformed: %s",
			 r.err ? "a field is truncated or too long" :
				 "bytes left over");
		return -EBADMSG;
	}
	if (!ret && (!name_ok(m->name, false) || !name_ok(m->parent, true))) {
		snprintf(err, err_len, "bad name '%s' or parent '%s'", m->name,
			 m->parent);
		return -EINVAL;
	}
	return ret ?: check_regions(m, err, err_len);
}

bool ckpt_machine_same(const struct ckpt_machine *a,
		       const struct ckpt_machine *b, char *err, size_t err_len)
{
	if (a->mem_bytes != b->mem_bytes || a->nr_cpus != b->nr_cpus)
		snprintf(err, err_len,
			 "a different machine: %llu MiB of RAM and %u vCPUs against %llu MiB and %u",
			 (unsigned long long)(a->mem_bytes >> 20), a->nr_cpus,
			 (unsigned long long)(b->mem_bytes >> 20), b->nr_cpus);
	else if (strcmp(a->cmdline, b->cmdline))
		snprintf(err, err_len, "a different machine: another command line");
	else if (strcmp(a->devices, b->devices))
		snprintf(err, err_len,
			 "a different machine: devices \"%s\" against \"%s\"",
			 a->devices, b->devices);
	else if (a->windows_bytes != b->windows_bytes ||
		 memcmp(a->windows, b->windows, a->windows_bytes))
		snprintf(err, err_len,
			 "a different machine: other aliases or shared files");
	else
		return true;
	return false;
}

uint64_t ckpt_pages_file_bytes(const struct ckpt_manifest *m)
{
	uint64_t bytes = 0;

	for (unsigned int i = 0; i < m->nr_regions; i++) {
		uint64_t pages = m->regions[i].size_bytes / GUEST_PAGE_BYTES;

		bytes += (pages + 63) / 64 * 8 + m->regions[i].held_pages * 8;
		if (m->auth.kind != CKPT_AUTH_NONE)
			bytes += m->regions[i].held_pages * CKPT_MAC_BYTES;
	}
	return bytes;
}
