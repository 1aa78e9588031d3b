/* SPDX-License-Identifier: MIT */
/*
 * Checkpoint chains on disk without KVM, for the unit tests: guest memory
 * in this process, layers written from it with checkpoint/pages.c, and
 * read back into a second memory.
 */
#ifndef KVMTRACK_TESTS_CHECKPOINT_FIXTURE_H
#define KVMTRACK_TESTS_CHECKPOINT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "checkpoint/mac.h"
#include "vmm/mem/memory.h"

#define FX_PAGES 2048 /* 8 MiB */

extern struct guest_mem fx_mem, fx_back;
extern char fx_dir[64];
/* When set: layers are written with MACs under fx_keys' first key, and
 * fx_restore() checks them (checkpoint/mac.h). */
extern struct ckpt_keys *fx_keys;

/* .init and .fini: both memories, and a fresh chain directory. */
void ckpt_fixture_setup(void);
void ckpt_fixture_teardown(void);

uint64_t *fx_page(struct guest_mem *m, uint64_t p);
/* Writes the layer `name` of fx_mem: all its data (bits NULL) or the
 * pages in bits. Returns its manifest's digest. */
uint64_t fx_write_layer(const char *name, const char *parent,
			uint64_t parent_digest, const uint64_t *bits);
/* Layer 0001 full, 0002 with pages changed since (one of them zeroed);
 * returns 0002's digest. */
uint64_t fx_write_chain(void);
/* Resolves fx_dir/name and loads every layer into fx_back; 0 or the
 * first error, its message in err. */
int fx_restore(const char *name, char *err, size_t err_len);
/* Flips a bit of the byte at `at` of fx_dir/file. */
void fx_damage(const char *file, off_t at);
/* The same in checkpoint name's manifest, its CRC made right again. */
void fx_edit_manifest(const char *name, off_t at);
/* fx_restore() must fail, its message saying `why`. */
void fx_expect_refused(const char *name, const char *why);

#endif
