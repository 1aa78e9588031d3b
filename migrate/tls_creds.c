// SPDX-License-Identifier: MIT
/*
 * TLS credentials of the migration channel (see tls.h): the options, and
 * loading x509 files in QEMU's layout or a keys.psk file, with every
 * problem named before a peer is involved.
 */
#include "migrate/tls_types.h"
#include "migrate/tls_x509.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/psk_file.h"

static int put_path(char *dst, const char *src, const char *opt, char *err,
		    size_t err_len)
{
	char cwd[MIG_TLS_PATH_MAX];
	int n;

	if (src[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		n = snprintf(dst, MIG_TLS_PATH_MAX, "%s", src);
	else
		n = snprintf(dst, MIG_TLS_PATH_MAX, "%s/%s", cwd, src);
	if (!src[0] || n >= MIG_TLS_PATH_MAX) {
		snprintf(err, err_len, "%s: %s", opt,
			 src[0] ? "the path is too long" : "an empty path");
		return -EINVAL;
	}
	return 0;
}

/* The names as lines (see cert_has_name()). */
static int put_names(struct mig_tls_opts *o, const char *const *names,
		     unsigned int nr_names, char *err, size_t err_len)
{
	size_t used = 0;

	for (unsigned int i = 0; i < nr_names; i++) {
		size_t len = strlen(names[i]);

		if (!len || strchr(names[i], '\n') ||
		    used + len + 1 >= sizeof(o->names)) {
			snprintf(err, err_len, "certificate name '%s': %s",
				 names[i], !len ? "empty" :
				 used + len + 1 >= sizeof(o->names) ? "too long" :
								  "a line break in it");
			return -EINVAL;
		}
		used += (size_t)sprintf(o->names + used, "%s%s", used ? "\n" : "",
					names[i]);
	}
	return 0;
}

int mig_tls_opts_set(struct mig_tls_opts *o, const char *creds,
		     const char *psk, const char *const *names,
		     unsigned int nr_names, char *err, size_t err_len)
{
	int ret;

	memset(o, 0, sizeof(*o));
	if (creds && psk) {
		snprintf(err, err_len,
			 "--tls-creds and --tls-psk exclude each other: x509 or a pre-shared key");
		return -EINVAL;
	}
	if (nr_names && !creds) {
		snprintf(err, err_len,
			 "certificate names are checked with --tls-creds only");
		return -EINVAL;
	}
	ret = put_names(o, names, nr_names, err, err_len);
	if (ret)
		return ret;
	if (creds)
		return put_path(o->creds, creds, "--tls-creds", err, err_len);
	return psk ? put_path(o->psk, psk, "--tls-psk", err, err_len) : 0;
}

const char *mig_tls_kind(const struct mig_tls *t)
{
	return t->x509 ? "x509" : "psk";
}

/* The destination's lookup of the identity a source names. */
static int psk_server_key(gnutls_session_t session,
			  const gnutls_datum_t *identity, gnutls_datum_t *key)
{
	struct mig_tls_io *io = gnutls_session_get_ptr(session);

	const struct psk_key *k = psk_find(&io->t->psk,
					   (const char *)identity->data,
					   identity->size);

	if (k) {
		key->data = gnutls_malloc(k->key_len);
		if (!key->data)
			return -1;
		memcpy(key->data, k->key, k->key_len);
		key->size = (unsigned int)k->key_len;
		return 0;
	}
	snprintf(io->why, sizeof(io->why),
		 "the source's identity '%.*s' is in no line of --tls-psk",
		 (int)(identity->size > 128 ? 128 : identity->size),
		 (const char *)identity->data);
	return -1;
}

/* GnuTLS's objects for the keys loaded. */
static int gnutls_creds(struct mig_tls *t, char *err, size_t err_len)
{
	const struct psk_key *k = &t->psk.keys[0];
	int ret;

	if (t->x509)
		return 0;
	if (t->server) {
		ret = gnutls_psk_allocate_server_credentials(&t->psk_server);
		if (!ret)
			gnutls_psk_set_server_credentials_function2(t->psk_server,
								    psk_server_key);
	} else {
		gnutls_datum_t id = { (unsigned char *)k->identity,
				      (unsigned int)strlen(k->identity) };
		gnutls_datum_t key = { (unsigned char *)k->key,
				       (unsigned int)k->key_len };

		ret = gnutls_psk_allocate_client_credentials(&t->psk_client);
		ret = ret ?: gnutls_psk_set_client_credentials2(t->psk_client, &id,
								&key, GNUTLS_PSK_KEY_RAW);
	}
	if (ret < 0) {
		snprintf(err, err_len, "pre-shared key: %s", gnutls_strerror(ret));
		return -EINVAL;
	}
	return 0;
}

int mig_tls_load(const struct mig_tls_opts *o, bool server,
		 struct mig_tls **out, char *err, size_t err_len)
{
	struct mig_tls *t = calloc(1, sizeof(*t));
	int ret;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	err[0] = '\0';
	t->server = server;
	snprintf(t->names, sizeof(t->names), "%s", o->names);
	if (o->creds[0])
		ret = mig_tls_load_x509(t, o->creds, err, err_len);
	else
		ret = psk_file_load(o->psk, "--tls-psk",
				    "migrate guests to and from here", &t->psk,
				    err, err_len);
	ret = ret ?: gnutls_creds(t, err, err_len);
	if (ret) {
		mig_tls_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

void mig_tls_free(struct mig_tls *t)
{
	if (!t)
		return;
	if (t->x509)
		gnutls_certificate_free_credentials(t->x509);
	if (t->psk_client)
		gnutls_psk_free_client_credentials(t->psk_client);
	if (t->psk_server)
		gnutls_psk_free_server_credentials(t->psk_server);
	/* The keys, not only the memory, go. */
	psk_keys_wipe(&t->psk);
	free(t);
}
