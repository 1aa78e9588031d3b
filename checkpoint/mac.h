/* SPDX-License-Identifier: MIT */
/*
 * Keyed MACs of checkpoint layers (docs/checkpoint.md, "Authenticated
 * layers"). The page hashes and digests of a layer catch accidents, not
 * an attacker: anyone can recompute them after altering a page. With a
 * pre-shared key (--mac-psk, QEMU's keys.psk format, the same file the
 * migration's --tls-psk reads), a layer also carries:
 *   - per held page, HMAC-SHA256(K, "page", gpa, page) cut to 128 bits,
 *     in its pages file, so a page is checked alone (lazily, in parallel);
 *   - a tag of its state and pages files in its manifest;
 *   - a tag of its manifest, which also holds its parent's tag.
 * K is HMAC-SHA256(psk, a fixed label): the same PSK used for TLS and
 * for MACs gives unrelated keys.
 */
#ifndef KVMTRACK_CKPT_MAC_H
#define KVMTRACK_CKPT_MAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/psk_file.h"

#define CKPT_MAC_BYTES 16 /* a page's: HMAC-SHA256 cut to 128 bits */
#define CKPT_TAG_BYTES 32 /* a file's or a manifest's: all of it */
#define CKPT_SHA256_BYTES 32

struct ckpt_key {
	char identity[sizeof(((struct psk_key *)0)->identity)];
	uint8_t k[32];
};

struct ckpt_keys {
	unsigned int nr;
	struct ckpt_key keys[PSK_MAX_KEYS];
};

/* Reads a keys.psk file and derives each identity's key; a checkpoint is
 * taken with the first. 0, or -errno with what is wrong in err. */
int ckpt_keys_load(const char *path, struct ckpt_keys **out, char *err,
		   size_t err_len);
/* The key of one PSK (keys.psk's key bytes) for identity: 0, or
 * -ENOTSUP without HMAC-SHA256. */
int ckpt_key_derive(const uint8_t *psk, size_t psk_len, const char *identity,
		    struct ckpt_key *out);
/* Wipes and frees; NULL is fine. */
void ckpt_keys_free(struct ckpt_keys *keys);
const struct ckpt_key *ckpt_keys_find(const struct ckpt_keys *keys,
				      const char *identity);

void ckpt_mac_page(const struct ckpt_key *k, uint64_t gpa, const void *page,
		   uint8_t out[CKPT_MAC_BYTES]);
/* A whole file's tag, bound to its name. */
void ckpt_mac_file(const struct ckpt_key *k, const char *name,
		   const void *data, size_t len, uint8_t out[CKPT_TAG_BYTES]);
/* A manifest's tag, from the SHA-256 of the bytes it covers. */
void ckpt_mac_manifest(const struct ckpt_key *k,
		       const uint8_t body_sha256[CKPT_SHA256_BYTES],
		       uint8_t out[CKPT_TAG_BYTES]);
void ckpt_sha256(const void *data, size_t len,
		 uint8_t out[CKPT_SHA256_BYTES]);
/* Compares in a time that does not depend on where they differ. */
bool ckpt_mac_equal(const void *a, const void *b, size_t n);

#endif
