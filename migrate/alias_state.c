// SPDX-License-Identifier: MIT
/* Aliases and shared files across a migration (see windows.h). */
#include "migrate/alias_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/wire.h"
#include "migrate/page_hash.h"
#include "vmm/alias/alias.h"
#include "vmm/mem/memory.h"

#define MAX_WINDOWS MEM_MAX_SLOTS

/* A file's content digest: the same terms as guest memory's. */
static uint64_t file_digest(const struct alias_info *a)
{
	uint64_t digest = 0;

	for (uint64_t off = 0; off < a->size_bytes; off += GUEST_PAGE_BYTES)
		digest += page_digest_term(a->gpa + off,
					   page_hash(a->hva + off));
	return digest;
}

void windows_put(const struct guest_mem *mem, struct wbuf *w)
{
	struct alias_info win[MAX_WINDOWS];
	unsigned int n = alias_snapshot(mem, win, MAX_WINDOWS);

	wbuf_put_u32(w, n);
	for (unsigned int i = 0; i < n; i++) {
		wbuf_put_u8(w, win[i].file);
		wbuf_put_u64(w, win[i].gpa);
		wbuf_put_u64(w, win[i].size_bytes);
		wbuf_put_u64(w, win[i].src_gpa);
		wbuf_put_str(w, win[i].name);
		wbuf_put_u64(w, win[i].file_bytes);
		wbuf_put_u64(w, win[i].file ? file_digest(&win[i]) : 0);
	}
}

static const struct alias_info *find_local(const struct alias_info *local,
					   unsigned int n,
					   const struct alias_info *want)
{
	for (unsigned int i = 0; i < n; i++)
		if (local[i].file == want->file && local[i].gpa == want->gpa)
			return &local[i];
	return NULL;
}

static int check_file(const struct alias_info *mine,
		      const struct alias_info *theirs, uint64_t digest,
		      char *err, size_t err_len)
{
	if (!mine || strcmp(mine->name, theirs->name)) {
		snprintf(err, err_len,
			 "shared file %s at 0x%llx: start the destination with --share %s=FILE@0x%llx",
			 theirs->name, (unsigned long long)theirs->gpa,
			 theirs->name, (unsigned long long)theirs->gpa);
		return -EINVAL;
	}
	if (mine->file_bytes != theirs->file_bytes ||
	    file_digest(mine) != digest) {
		snprintf(err, err_len,
			 "shared file %s differs here (%llu bytes, source %llu, or other content)",
			 theirs->name, (unsigned long long)mine->file_bytes,
			 (unsigned long long)theirs->file_bytes);
		return -EINVAL;
	}
	return 0;
}

static int apply_alias(struct guest_mem *mem, const struct alias_info *mine,
		       const struct alias_info *theirs, char *err,
		       size_t err_len)
{
	struct alias_spec spec = { .gpa = theirs->gpa,
				   .src_gpa = theirs->src_gpa,
				   .size_bytes = theirs->size_bytes };

	if (mine && mine->src_gpa == theirs->src_gpa &&
	    mine->size_bytes == theirs->size_bytes)
		return 0; /* the destination was started with it */
	return alias_add(mem, &spec, err, err_len);
}

int windows_apply(struct guest_mem *mem, struct rbuf *r, char *err,
		  size_t err_len)
{
	struct alias_info local[MAX_WINDOWS];
	unsigned int nr_local = alias_snapshot(mem, local, MAX_WINDOWS);
	uint32_t n = rbuf_get_u32(r);
	int ret = 0;

	if (n > MAX_WINDOWS) {
		snprintf(err, err_len, "%u read-only windows, at most %u", n,
			 MAX_WINDOWS);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n && !ret && !r->err; i++) {
		struct alias_info theirs = { 0 };
		uint64_t digest;

		theirs.file = rbuf_get_u8(r);
		theirs.gpa = rbuf_get_u64(r);
		theirs.size_bytes = rbuf_get_u64(r);
		theirs.src_gpa = rbuf_get_u64(r);
		rbuf_get_str(r, theirs.name, sizeof(theirs.name));
		theirs.file_bytes = rbuf_get_u64(r);
		digest = rbuf_get_u64(r);
		if (r->err)
			break;
		ret = theirs.file ? check_file(find_local(local, nr_local, &theirs),
					       &theirs, digest, err, err_len)
				  : apply_alias(mem, find_local(local, nr_local, &theirs),
						&theirs, err, err_len);
	}
	if (!ret && r->err) {
		snprintf(err, err_len, "malformed list of read-only windows");
		ret = -EBADMSG;
	}
	return ret;
}
