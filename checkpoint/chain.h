/* SPDX-License-Identifier: MIT */
/*
 * A chain directory on disk (docs/checkpoint.md): one subdirectory per
 * checkpoint, named by its number, each written under a temporary name
 * and renamed into place once every file in it is synced, so that a crash
 * leaves the chain as it was. Reading checks what links the layers: each
 * manifest's own name, its parent's presence, digest and machine.
 */
#ifndef KVMTRACK_CKPT_CHAIN_H
#define KVMTRACK_CKPT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint/manifest.h"

#define CKPT_CHAIN_MAX 4096 /* layers from a base to its newest */

/* A checkpoint read from disk: its manifest and the digest which names
 * it to its children: its manifest's, or for a merged one the one of the
 * checkpoint it replaced (manifest.h, merged_from). */
struct ckpt_layer {
	struct ckpt_manifest m;
	uint64_t digest;
	/* The same for an authenticated one: its manifest's tag, or for a
	 * merged one the tag of the checkpoint it replaced. */
	uint8_t link_tag[CKPT_TAG_BYTES];
	/* Its key, once ckpt_chain_resolve() checked its tag; else NULL. */
	const struct ckpt_key *key;
	char path[4096]; /* its directory */
};

/*
 * The newest complete checkpoint in dir (the highest number) into name;
 * -ENOENT when there is none (or no dir), other -errno with err.
 */
int ckpt_chain_newest(const char *dir, char name[CKPT_NAME_MAX], char *err,
		      size_t err_len);
/* All of them, oldest first: *names (free it) holds *nr names. */
int ckpt_chain_list(const char *dir, char (**names)[CKPT_NAME_MAX],
		    unsigned int *nr, char *err, size_t err_len);
/* The number after name ("0001" after "" or nothing). */
void ckpt_next_name(const char *newest, char name[CKPT_NAME_MAX]);

/*
 * Reads and decodes layer_path/manifest into m; *digest is the one that
 * names it to its children (ckpt_layer). -errno with what is wrong in err.
 */
int ckpt_manifest_read(const char *layer_path, struct ckpt_manifest *m,
		       uint64_t *digest, char *err, size_t err_len);
/*
 * Reads dir/name's manifest into l. err names the checkpoint and what is
 * wrong (missing, unreadable, corrupted, renamed).
 */
int ckpt_layer_read(const char *dir, const char *name, struct ckpt_layer *l,
		    char *err, size_t err_len);

/*
 * The chain that ends at dir/name, base first: *layers (free it) has *nr
 * entries. Each parent must be there, with the digest its child
 * recorded, and the same machine. With keys (--mac-psk), every layer must
 * be authenticated, its manifest pass its tag under the key of its
 * identity, and each parent have the tag its child recorded; without,
 * an authenticated layer is refused (its key is needed to trust it).
 * err names the layer at fault.
 */
int ckpt_chain_resolve(const char *dir, const char *name,
		       const struct ckpt_keys *keys,
		       struct ckpt_layer **layers, unsigned int *nr, char *err,
		       size_t err_len);

/*
 * The whole content of dir/name/file, which must be exactly `bytes` long
 * (at most 1 GiB): 0 and *data (free it), or -errno with err.
 */
int ckpt_read_file(const char *layer_path, const char *file, uint64_t bytes,
		   uint8_t **data, char *err, size_t err_len);

/*
 * Writing one checkpoint: begin makes dir (if need be) and dir/.name.tmp
 * (removing a stale one) and returns its fd; write_file puts a whole file
 * in it, synced; commit syncs the directory, renames it to dir/name and
 * syncs dir. abort removes the temporary directory.
 */
int ckpt_dir_begin(const char *dir, const char *name, int *tmp_fd, char *err,
		   size_t err_len);
int ckpt_write_file(int dir_fd, const char *file, const void *data, size_t len);
int ckpt_dir_commit(const char *dir, const char *name, int tmp_fd, char *err,
		    size_t err_len);
void ckpt_dir_abort(const char *dir, const char *name, int tmp_fd);
/* Removes dir/entry and the files a checkpoint holds (a layer no longer
 * needed, or one that never became a checkpoint). */
void ckpt_dir_remove(const char *dir, const char *entry);
/* fsync() of a directory: its entries made durable. 0 or -errno. */
int ckpt_sync_dir(const char *path);

/*
 * Takes the chain's lock (an exclusive flock on dir, waiting for it):
 * one kvmtrack at a time takes, merges or recovers. *fd is closed by
 * ckpt_chain_unlock(). A missing dir is not locked (*fd = -1), and 0.
 */
int ckpt_chain_lock(const char *dir, int *fd, char *err, size_t err_len);
void ckpt_chain_unlock(int fd);

/* pwrite or pread of the whole range: 0, or -errno (-EIO: the file ends
 * first). */
int ckpt_file_io(int fd, void *buf, uint64_t len, uint64_t off, bool write_it);

#endif
