/* SPDX-License-Identifier: MIT */
/*
 * A chain's memory loaded for a restore: each page read once, from the
 * newest layer that holds it, and checked against that layer's hash of
 * it before the guest can use it. Pages an older layer holds but a newer
 * one replaced are not read: no byte of them reaches the guest.
 */
#ifndef KVMTRACK_CKPT_CHAIN_LOAD_H
#define KVMTRACK_CKPT_CHAIN_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "checkpoint/chain.h"
#include "vmm/mem/memory.h"

/*
 * Loads layers[0..nr) (base first, as ckpt_chain_resolve() gives them)
 * into mem, which must be zero where no layer holds a page. Each layer's
 * pages file is checked against its digest and its memory file against
 * its size first. 0 and *pages_read, or -errno with err naming the layer
 * and what is wrong.
 */
int ckpt_chain_load_pages(const struct ckpt_layer *layers, unsigned int nr,
			  struct guest_mem *mem, uint64_t *pages_read,
			  char *err, size_t err_len);

#endif
