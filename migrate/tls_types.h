/* SPDX-License-Identifier: MIT */
/*
 * Inside the migration channel's TLS (tls.h): the loaded credentials and
 * one connection's state, shared by tls_creds.c (options, keys.psk),
 * tls_x509.c (QEMU's x509 layout, the peer's certificate check) and
 * tls_session.c (handshake, kernel TLS, records in this process).
 */
#ifndef KVMTRACK_TLS_TYPES_H
#define KVMTRACK_TLS_TYPES_H

#include <gnutls/gnutls.h>
#include <stdint.h>

#include "lib/psk_file.h"
#include "migrate/tls.h"

#define MIG_TLS_RECORD_BYTES 16384 /* TLS's largest plaintext record */

struct mig_tls {
	bool server;
	char names[MIG_TLS_PATH_MAX]; /* see mig_tls_opts */
	gnutls_certificate_credentials_t x509;
	gnutls_psk_client_credentials_t psk_client;
	gnutls_psk_server_credentials_t psk_server;
	/* The source uses the first; the destination any the source names. */
	struct psk_keys psk;
};

/* One handshake's working state; GnuTLS's callbacks find it through the
 * session's pointer (gnutls_session_set_ptr). */
struct mig_tls_io {
	gnutls_session_t session;
	const struct mig_tls *t;
	int fd;
	const char *host; /* the source's name to verify, else NULL */
	/* The first bytes the peer sent: a plain kvmtrack frame there means
	 * the peer runs without TLS. */
	uint8_t first[4];
	size_t first_len;
	char why[256]; /* a refusal's reason, found in a callback */
	/* The end of GnuTLS's current read, handshake or record, in
	 * CLOCK_MONOTONIC ns (0: no bound): see tls_session.c's pull(). */
	uint64_t pull_until_ns;
	/* Records in this process: pieces (a frame header, pages) gathered
	 * into one full record before GnuTLS encrypts it. */
	uint8_t out[MIG_TLS_RECORD_BYTES];
	size_t out_len;
};

#endif
