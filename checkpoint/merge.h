/* SPDX-License-Identifier: MIT */
/*
 * Folding a chain into one full checkpoint (docs/checkpoint.md,
 * "Merging"), in place: the newer layer's pages are written into the
 * base's memory file, so a merge writes what the newer layer holds, not
 * the whole guest. The result keeps the newer layer's name and stands for
 * it (manifest.h, merged_from), so its children still restore.
 *
 * A crash at any point leaves a chain that restores: before the merged
 * manifest is synced nothing was changed; after it, the merge is finished
 * by the next ckpt_chain_recover() (recover.h) from what it wrote (roll
 * forward).
 * Every kvmtrack command that reads or writes a chain holds its lock
 * (ckpt_chain_lock()) and recovers it first.
 */
#ifndef KVMTRACK_CKPT_MERGE_H
#define KVMTRACK_CKPT_MERGE_H

#include <stddef.h>
#include <stdint.h>

struct ckpt_keys;

struct ckpt_merge_result {
	unsigned int layers; /* folded into the result, itself included */
	uint64_t pages_written; /* pages of the newer layers written */
	uint64_t ns;
};

/*
 * Folds the chain that ends at dir/name (its newest checkpoint when name
 * is NULL or "") into one full checkpoint of that name; the layers below
 * it are removed. Each layer's pages are checked against their hashes on
 * the way, and an authenticated chain's against their MACs under keys
 * (ckpt_chain_resolve() says which chains need them); the result is
 * authenticated as its layers were. 0 (also for a chain of one), or
 * -errno with err naming the layer and what is wrong; the chain is then
 * as it was.
 */
int ckpt_merge(const char *dir, const char *name,
	       const struct ckpt_keys *keys, struct ckpt_merge_result *res,
	       char *err, size_t err_len);

#endif
