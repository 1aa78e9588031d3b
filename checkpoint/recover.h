/* SPDX-License-Identifier: MIT */
/*
 * Recovering a chain directory after a crash (recover.c): a merge past
 * its point of no return is finished, anything else left is removed.
 * Every command that opens a chain does it first, holding its lock.
 */
#ifndef KVMTRACK_CKPT_RECOVER_H
#define KVMTRACK_CKPT_RECOVER_H

#include <stddef.h>

struct ckpt_keys;

/*
 * Finishes a merge that a crash interrupted and removes what one left;
 * dir locked by the caller. keys: an authenticated chain's (mac.h), or
 * NULL. 0, or -errno with err.
 */
int ckpt_chain_recover(const char *dir, const struct ckpt_keys *keys,
		       char *err, size_t err_len);

#endif
