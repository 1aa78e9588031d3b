/* SPDX-License-Identifier: MIT */
/*
 * A newer layer's pages folded into its full parent's memory file, in
 * place (docs/checkpoint.md, "Merging"): what merge.c does after its
 * point of no return, and what recover.c redoes after a crash.
 */
#ifndef KVMTRACK_CKPT_FOLD_H
#define KVMTRACK_CKPT_FOLD_H

#include <stddef.h>
#include <stdint.h>

struct ckpt_keys;
struct ckpt_manifest;
struct page_table;

/*
 * Fault injection for the tests of recovery: KVMTRACK_X_MERGE_CRASH=N
 * ends the process (status 99) at step N of a merge. Not for users.
 */
void ckpt_fold_crash_point(int step);
/* open() of dir/entry/memory. */
int ckpt_fold_open_memory(const char *dir, const char *entry, int flags);
/*
 * Writes the pages of a layer (its table ct, its memory file from) into
 * the memory file to, each checked against its hash and MAC on the way;
 * with to < 0 only checks them, taking its zero pages out of merged.
 */
int ckpt_fold_overlay(const struct ckpt_manifest *m, const struct page_table *ct,
		      int from, int to, struct page_table *merged,
		      uint64_t *written, char *err, size_t err_len);
/*
 * Steps 2-4 of a merge for dir/.NAME.tmp, whose manifest is tm, over the
 * old layer dir/NAME (keys: its MACs'). *written counts the pages.
 */
int ckpt_fold_roll_forward(const char *dir, const struct ckpt_manifest *tm,
			   const struct ckpt_keys *keys, uint64_t *written,
			   char *err, size_t err_len);

#endif
