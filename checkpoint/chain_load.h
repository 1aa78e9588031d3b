/* SPDX-License-Identifier: MIT */
/*
 * A chain's memory loaded for a restore: each page read once, from the
 * newest layer that holds it, and checked against that layer's hash of
 * it before the guest can use it. Pages an older layer holds but a newer
 * one replaced are not read: no byte of them reaches the guest.
 */
#ifndef KVMTRACK_CKPT_CHAIN_LOAD_H
#define KVMTRACK_CKPT_CHAIN_LOAD_H

#include <stdbool.h>
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

/*
 * The same chain opened for reading page by page (the lazy restore):
 * every layer's pages file checked and its memory file opened, and the
 * newest owner of each page found. layers must outlive it.
 */
struct chain_pages;
int chain_pages_open(const struct ckpt_layer *layers, unsigned int nr,
		     const struct guest_mem *mem, struct chain_pages **out,
		     char *err, size_t err_len);
void chain_pages_close(struct chain_pages *cp);
/*
 * Page `page` of region r into buf (4 KiB), checked against its hash: 1
 * when a layer holds it, 0 when none does (it is zero), or -errno with
 * err naming the layer. Safe from several threads at once.
 */
int chain_pages_read(const struct chain_pages *cp, unsigned int r,
		     uint64_t page, uint8_t *buf, char *err, size_t err_len);
bool chain_pages_owned(const struct chain_pages *cp, unsigned int r,
		       uint64_t page);

#endif
