// SPDX-License-Identifier: MIT
/*
 * Folding a layer's pages into a full parent's memory file in place
 * (fold.h): the part of a merge (merge.c) after its point of no return,
 * which recovery (recover.c) redoes after a crash.
 */
#include "checkpoint/fold.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/chain.h"
#include "checkpoint/page_table.h"

#define RUN_PAGES 256

/*
 * Fault injection for the tests of recovery: KVMTRACK_X_MERGE_CRASH=N
 * ends the process (status 99) at step N: 1 with the first step written,
 * 2 with the parent renamed, 3 halfway through the pages, 4 right after
 * the exchange. Like --x-lose-dirty-percent, not for users.
 */
void ckpt_fold_crash_point(int step)
{
	const char *at = getenv("KVMTRACK_X_MERGE_CRASH");

	if (at && atoi(at) == step)
		_exit(99);
}

static bool page_is_zero(const uint8_t *page)
{
	static const uint8_t zero[GUEST_PAGE_BYTES];

	return !memcmp(page, zero, GUEST_PAGE_BYTES);
}

int ckpt_fold_open_memory(const char *dir, const char *entry, int flags)
{
	char path[4300];

	snprintf(path, sizeof(path), "%s/%s/memory", dir, entry);
	return open(path, flags | O_CLOEXEC);
}

static void unhold_zero_pages(struct page_table *pt, unsigned int r, uint64_t p,
			      uint64_t n, const uint8_t *buf)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t *w = &pt->bitmap[r][(p + i) / 64];
		uint64_t bit = 1ull << ((p + i) % 64);

		if (page_is_zero(buf + i * GUEST_PAGE_BYTES) && (*w & bit)) {
			*w &= ~bit;
			pt->held[r]--;
		}
	}
}

/*
 * Pages [p, p + n) of region r: read from `from` and checked; then
 * written to `to` (a zero page made a hole), or with to < 0, a zero page
 * left out of `merged`: a full checkpoint holds no zero page.
 */
static int overlay_run(const struct page_table *ct, unsigned int r, uint64_t p,
		       uint64_t n, off_t off, int from, int to,
		       struct page_table *merged, uint8_t *buf, char *err,
		       size_t err_len)
{
	int ret = ckpt_file_io(from, buf, n * GUEST_PAGE_BYTES, off, false);

	for (uint64_t i = 0; i < n && !ret; i++)
		if (page_table_check(ct, r, p + i, buf + i * GUEST_PAGE_BYTES,
				     err, err_len))
			return -EBADMSG;
	if (!ret && to < 0)
		unhold_zero_pages(merged, r, p, n, buf);
	ret = ret
		  ?: to < 0
		     ? 0
		     : ckpt_file_io(to, buf, n * GUEST_PAGE_BYTES, off, true);
	for (uint64_t i = 0; i < n && !ret && to >= 0; i++)
		if (page_is_zero(buf + i * GUEST_PAGE_BYTES))
			fallocate(to,
				  FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  off + (off_t)(i * GUEST_PAGE_BYTES),
				  GUEST_PAGE_BYTES);
	if (ret == -EIO)
		snprintf(err, err_len,
			 "its memory file ends early (truncated)");
	else if (ret)
		snprintf(err, err_len, "its memory file: %s", strerror(-ret));
	return ret;
}

/*
 * Writes the pages of child (its table ct, its memory file from) into the
 * memory file to, each checked against its hash on the way, in runs of
 * consecutive pages.
 */
int ckpt_fold_overlay(const struct ckpt_manifest *m, const struct page_table *ct,
		      int from, int to, struct page_table *merged,
		      uint64_t *written, char *err, size_t err_len)
{
	uint8_t *buf = malloc(RUN_PAGES * GUEST_PAGE_BYTES);
	uint64_t total = 0, done = 0;
	int ret = buf ? 0 : -ENOMEM;

	for (unsigned int r = 0; r < ct->nr_regions; r++)
		total += ct->held[r];
	for (unsigned int r = 0; r < ct->nr_regions && !ret; r++) {
		off_t base = (off_t)m->regions[r].file_offset;

		for (uint64_t p = 0, end; p < ct->pages[r] && !ret;
		     p = end + 1) {
			for (end = p; end < ct->pages[r] &&
				      end - p < RUN_PAGES &&
				      page_table_holds(ct, r, end);)
				end++;
			if (end == p)
				continue;
			ret = overlay_run(ct, r, p, end - p,
					  base + (off_t)(p * GUEST_PAGE_BYTES),
					  from, to, merged, buf, err, err_len);
			done += end - p;
			if (to >= 0 && 2 * done >= total)
				ckpt_fold_crash_point(3);
			end--;
		}
	}
	*written += done;
	free(buf);
	return ret;
}

int ckpt_fold_roll_forward(const char *dir, const struct ckpt_manifest *tm,
			   const struct ckpt_keys *keys, uint64_t *written,
			   char *err, size_t err_len)
{
	char tmp[CKPT_NAME_MAX + 8], old[CKPT_NAME_MAX + 12], a[4300], b[4300];
	struct page_table ct = {0};
	struct ckpt_layer *l = malloc(sizeof(*l));
	int from = -1, to = -1, ret;

	if (!l)
		return -ENOMEM;
	ret = ckpt_layer_read(dir, tm->name, l, err, err_len);
	if (!ret && (!l->m.parent[0] || l->digest != tm->merged_from)) {
		snprintf(err, err_len,
			 "checkpoint %s is not the one being merged", tm->name);
		ret = -EINVAL;
	}
	snprintf(tmp, sizeof(tmp), ".%s.tmp", tm->name);
	snprintf(old, sizeof(old), ".%s.merged", ret ? "" : l->m.parent);
	snprintf(a, sizeof(a), "%s/%s", dir, ret ? "" : l->m.parent);
	snprintf(b, sizeof(b), "%s/%s", dir, old);
	if (!ret && rename(a, b) && errno != ENOENT)
		ret = -errno;
	ret = ret ?: ckpt_sync_dir(dir);
	if (!ret)
		ckpt_fold_crash_point(2);
	ret = ret ?: page_table_read(&l->m,
				     ckpt_keys_find(keys, l->m.auth.identity),
				     l->path, &ct, err, err_len);
	from = ret ? -1 : ckpt_fold_open_memory(dir, tm->name, O_RDONLY);
	to = ret ? -1 : ckpt_fold_open_memory(dir, tmp, O_RDWR);
	if (!ret && (from < 0 || to < 0)) {
		ret = -errno;
		snprintf(err, err_len, "opening the memory files: %s",
			 strerror(errno));
	}
	ret = ret ?: ckpt_fold_overlay(&l->m, &ct, from, to, NULL, written,
				       err, err_len);
	if (!ret && fsync(to))
		ret = -errno;
	snprintf(a, sizeof(a), "%s/%s", dir, tmp);
	snprintf(b, sizeof(b), "%s/%s", dir, tm->name);
	if (!ret && renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE))
		ret = -errno;
	ret = ret ?: ckpt_sync_dir(dir);
	if (!ret)
		ckpt_fold_crash_point(4);
	if (!ret) {
		ckpt_dir_remove(dir, tmp);
		ckpt_dir_remove(dir, old);
	} else if (!err[0]) {
		snprintf(err, err_len, "%s", strerror(-ret));
	}
	if (from >= 0)
		close(from);
	if (to >= 0)
		close(to);
	page_table_free(&ct);
	free(l);
	return ret;
}
