/* SPDX-License-Identifier: MIT */
/*
 * Pre-shared keys in QEMU's keys.psk format: one "identity:hexkey" per
 * line, or a file holding only a hex key, which stands for the identity
 * "kvmtrack". The migration channel's TLS (--tls-psk) and the checkpoint
 * MACs (--mac-psk) read the same files. Parsing only: no crypto here.
 */
#ifndef KVMTRACK_PSK_FILE_H
#define KVMTRACK_PSK_FILE_H

#include <stddef.h>
#include <stdint.h>

#define PSK_MAX_KEYS 64
#define PSK_MIN_KEY_BYTES 16
#define PSK_DEFAULT_ID "kvmtrack"

struct psk_key {
	char identity[129];
	uint8_t key[64];
	size_t key_len;
};

struct psk_keys {
	unsigned int nr;
	struct psk_key keys[PSK_MAX_KEYS];
};

/*
 * Reads path into keys. Every problem is named with the option (opt, such
 * as "--tls-psk") and the line. A file other users can read gets a
 * warning saying what its reader could do (`exposes`). 0 or -errno.
 */
int psk_file_load(const char *path, const char *opt, const char *exposes,
		  struct psk_keys *keys, char *err, size_t err_len);

/* The key of identity id, or NULL. */
const struct psk_key *psk_find(const struct psk_keys *keys, const char *id,
			       size_t id_len);

/* Wipes the keys, not only frees their memory. */
void psk_keys_wipe(struct psk_keys *keys);

#endif
