// SPDX-License-Identifier: MIT
/*
 * x509 credentials of the migration channel in QEMU's layout (a directory
 * with ca-cert.pem, server-cert.pem and server-key.pem on the destination,
 * client-cert.pem and client-key.pem on the source, and ca-crl.pem where
 * there is one), and the check of the peer's certificate: signed by the
 * CA, and carrying the name this end expects.
 */
#include <errno.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "migrate/tls_types.h"
#include "migrate/tls_x509.h"

struct x509_paths {
	char ca[MIG_TLS_PATH_MAX + 16];
	char cert[MIG_TLS_PATH_MAX + 16];
	char key[MIG_TLS_PATH_MAX + 16];
	char crl[MIG_TLS_PATH_MAX + 16];
};

/* Whether the certificate carries one of names (lines: a host name, or a
 * whole distinguished name as RFC 4514 writes it). */
static bool cert_has_name(gnutls_x509_crt_t crt, const char *names,
			  const char *dn)
{
	const char *p = names;

	while (*p) {
		size_t len = strcspn(p, "\n");
		char name[MIG_TLS_PATH_MAX];

		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		if (strchr(name, '=') ? !strcmp(name, dn) :
					gnutls_x509_crt_check_hostname2(crt, name, 0))
			return true;
		p += len + (p[len] == '\n');
	}
	return false;
}

/* The destination's list of allowed sources (--tls-authz). */
static int check_names(struct mig_tls_io *io)
{
	const gnutls_datum_t *list;
	gnutls_datum_t dn = { NULL, 0 };
	gnutls_x509_crt_t crt;
	unsigned int n = 0;
	bool ok = false;

	list = gnutls_certificate_get_peers(io->session, &n);
	if (!list || !n || gnutls_x509_crt_init(&crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(crt, &list[0], GNUTLS_X509_FMT_DER) == 0 &&
	    gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0)
		ok = cert_has_name(crt, io->t->names, (const char *)dn.data);
	if (!ok)
		snprintf(io->why, sizeof(io->why),
			 "the source's certificate (%s) carries none of the names --tls-authz allows",
			 dn.data ? (const char *)dn.data : "unreadable");
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
	return ok ? 0 : -1;
}

/* Called by GnuTLS in the handshake, when the peer's certificate came. */
static int verify_peer(gnutls_session_t session)
{
	struct mig_tls_io *io = gnutls_session_get_ptr(session);
	unsigned int status = 0;
	gnutls_datum_t out = { NULL, 0 };
	int ret = gnutls_certificate_verify_peers3(session, io->host, &status);

	if (ret < 0) {
		snprintf(io->why, sizeof(io->why),
			 "the %s's certificate cannot be checked: %s",
			 io->host ? "destination" : "source",
			 ret == GNUTLS_E_NO_CERTIFICATE_FOUND ? "it sent none" :
								gnutls_strerror(ret));
		return -1;
	}
	if (status) {
		gnutls_certificate_verification_status_print(status,
							     GNUTLS_CRT_X509,
							     &out, 0);
		snprintf(io->why, sizeof(io->why), "the %s's certificate: %s%s%s%s",
			 io->host ? "destination" : "source",
			 out.data ? (const char *)out.data : "not trusted",
			 status & GNUTLS_CERT_UNEXPECTED_OWNER ? "(this end expects '" : "",
			 status & GNUTLS_CERT_UNEXPECTED_OWNER ? io->host : "",
			 status & GNUTLS_CERT_UNEXPECTED_OWNER ? "': --tls-hostname)" : "");
		gnutls_free(out.data);
		return -1;
	}
	return !io->host && io->t->names[0] ? check_names(io) : 0;
}

static int need_file(const char *path, const char *dir, bool server,
		     char *err, size_t err_len)
{
	if (access(path, R_OK) == 0)
		return 0;
	snprintf(err, err_len,
		 "--tls-creds %s: %s: %s (QEMU's layout: ca-cert.pem, and %s on the %s)",
		 dir, strrchr(path, '/') + 1, strerror(errno),
		 server ? "server-cert.pem with server-key.pem" :
			  "client-cert.pem with client-key.pem",
		 server ? "destination" : "source");
	return -ENOENT;
}

int mig_tls_load_x509(struct mig_tls *t, const char *dir, char *err,
		      size_t err_len)
{
	const char *side = t->server ? "server" : "client";
	struct x509_paths p;
	int ret;

	snprintf(p.ca, sizeof(p.ca), "%s/ca-cert.pem", dir);
	snprintf(p.cert, sizeof(p.cert), "%s/%s-cert.pem", dir, side);
	snprintf(p.key, sizeof(p.key), "%s/%s-key.pem", dir, side);
	snprintf(p.crl, sizeof(p.crl), "%s/ca-crl.pem", dir);
	ret = need_file(p.ca, dir, t->server, err, err_len);
	ret = ret ?: need_file(p.cert, dir, t->server, err, err_len);
	ret = ret ?: need_file(p.key, dir, t->server, err, err_len);
	if (ret)
		return ret;
	if (gnutls_certificate_allocate_credentials(&t->x509) < 0)
		return -ENOMEM;
	ret = gnutls_certificate_set_x509_trust_file(t->x509, p.ca,
						     GNUTLS_X509_FMT_PEM);
	if (ret <= 0) {
		snprintf(err, err_len, "--tls-creds %s: ca-cert.pem: %s", dir,
			 ret ? gnutls_strerror(ret) : "no certificate in it");
		return -EINVAL;
	}
	ret = gnutls_certificate_set_x509_key_file(t->x509, p.cert, p.key,
						   GNUTLS_X509_FMT_PEM);
	if (ret < 0) {
		snprintf(err, err_len, "--tls-creds %s: %s-cert.pem, %s-key.pem: %s",
			 dir, side, side, gnutls_strerror(ret));
		return -EINVAL;
	}
	ret = access(p.crl, F_OK) ? 0 :
		gnutls_certificate_set_x509_crl_file(t->x509, p.crl,
						     GNUTLS_X509_FMT_PEM);
	if (ret < 0) {
		snprintf(err, err_len, "--tls-creds %s: ca-crl.pem: %s", dir,
			 gnutls_strerror(ret));
		return -EINVAL;
	}
	gnutls_certificate_set_verify_function(t->x509, verify_peer);
	return 0;
}
