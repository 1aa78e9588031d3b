// SPDX-License-Identifier: MIT
/* Keyed MACs of checkpoint layers (mac.h), by GnuTLS's HMAC-SHA256. */
#include "checkpoint/mac.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/le.h"

/* Separates these keys from any other use of the same PSK (TLS). */
static const char derive_label[] = "kvmtrack checkpoint MAC key v1";

int ckpt_key_derive(const uint8_t *psk, size_t psk_len, const char *identity,
		    struct ckpt_key *out)
{
	snprintf(out->identity, sizeof(out->identity), "%s", identity);
	return gnutls_hmac_fast(GNUTLS_MAC_SHA256, psk, psk_len, derive_label,
				sizeof(derive_label) - 1, out->k) < 0
		       ? -ENOTSUP
		       : 0;
}

int ckpt_keys_load(const char *path, struct ckpt_keys **out, char *err,
		   size_t err_len)
{
	struct psk_keys *psk = malloc(sizeof(*psk));
	struct ckpt_keys *keys = calloc(1, sizeof(*keys));
	int ret = psk && keys ? 0 : -ENOMEM;

	*out = NULL;
	ret = ret ?: psk_file_load(path, "--mac-psk",
				   "forge checkpoints that restore here", psk,
				   err, err_len);
	for (unsigned int i = 0; !ret && i < psk->nr; i++) {
		if (ckpt_key_derive(psk->keys[i].key, psk->keys[i].key_len,
				    psk->keys[i].identity,
				    &keys->keys[keys->nr++])) {
			snprintf(err, err_len, "--mac-psk %s: HMAC-SHA256 is not available",
				 path);
			ret = -ENOTSUP;
		}
	}
	if (psk)
		psk_keys_wipe(psk);
	free(psk);
	if (ret) {
		ckpt_keys_free(keys);
		return ret;
	}
	*out = keys;
	return 0;
}

void ckpt_keys_free(struct ckpt_keys *keys)
{
	if (!keys)
		return;
	explicit_bzero(keys, sizeof(*keys));
	free(keys);
}

const struct ckpt_key *ckpt_keys_find(const struct ckpt_keys *keys,
				      const char *identity)
{
	for (unsigned int i = 0; keys && i < keys->nr; i++)
		if (!strcmp(keys->keys[i].identity, identity))
			return &keys->keys[i];
	return NULL;
}

/* HMAC(K, label NUL a b): the label keeps one kind of tag from standing
 * for another. */
static void mac_parts(const struct ckpt_key *k, const char *label,
		      const void *a, size_t a_len, const void *b, size_t b_len,
		      uint8_t out[CKPT_TAG_BYTES])
{
	gnutls_hmac_hd_t h;

	/* Only fails without SHA-256, which ckpt_keys_load() found there. */
	if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, k->k, sizeof(k->k)) < 0) {
		memset(out, 0, CKPT_TAG_BYTES);
		return;
	}
	gnutls_hmac(h, label, strlen(label) + 1);
	gnutls_hmac(h, a, a_len);
	if (b_len)
		gnutls_hmac(h, b, b_len);
	gnutls_hmac_deinit(h, out);
}

void ckpt_mac_page(const struct ckpt_key *k, uint64_t gpa, const void *page,
		   uint8_t out[CKPT_MAC_BYTES])
{
	uint8_t where[8], tag[CKPT_TAG_BYTES];

	put_le64(where, gpa);
	mac_parts(k, "page", where, sizeof(where), page, 4096, tag);
	memcpy(out, tag, CKPT_MAC_BYTES);
}

void ckpt_mac_file(const struct ckpt_key *k, const char *name,
		   const void *data, size_t len, uint8_t out[CKPT_TAG_BYTES])
{
	mac_parts(k, "file", name, strlen(name) + 1, data, len, out);
}

void ckpt_mac_manifest(const struct ckpt_key *k,
		       const uint8_t body_sha256[CKPT_SHA256_BYTES],
		       uint8_t out[CKPT_TAG_BYTES])
{
	mac_parts(k, "manifest", body_sha256, CKPT_SHA256_BYTES, NULL, 0, out);
}

void ckpt_sha256(const void *data, size_t len, uint8_t out[CKPT_SHA256_BYTES])
{
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) < 0)
		memset(out, 0, CKPT_SHA256_BYTES);
}

bool ckpt_mac_equal(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	uint8_t diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}
