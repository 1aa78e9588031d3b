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
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

/* Lines of a keys.psk file: QEMU's limit on the file is far above this. */
#define PSK_FILE_MAX_BYTES 65536
#define PSK_MIN_KEY_BYTES 16

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

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One "identity:hexkey" line, or a bare hex key (identity "kvmtrack"). */
static int parse_psk_line(const char *path, unsigned int lineno, char *line,
			  struct mig_tls_psk_key *k, char *err, size_t err_len)
{
	char *colon = strchr(line, ':');
	const char *hex = colon ? colon + 1 : line;
	size_t hex_len = strlen(hex), id_len = colon ? (size_t)(colon - line) : 0;

	if (colon && (id_len == 0 || id_len >= sizeof(k->identity))) {
		snprintf(err, err_len, "--tls-psk %s: line %u: %s identity", path,
			 lineno, id_len ? "an overlong" : "an empty");
		return -EINVAL;
	}
	memcpy(k->identity, colon ? line : MIG_TLS_PSK_DEFAULT_ID,
	       colon ? id_len : sizeof(MIG_TLS_PSK_DEFAULT_ID) - 1);
	if (hex_len % 2 || hex_len / 2 > sizeof(k->key)) {
		snprintf(err, err_len,
			 "--tls-psk %s: line %u: the key must be an even number of hex digits, at most %zu",
			 path, lineno, sizeof(k->key) * 2);
		return -EINVAL;
	}
	for (size_t i = 0; i < hex_len; i += 2) {
		int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);

		if (hi < 0 || lo < 0) {
			snprintf(err, err_len,
				 "--tls-psk %s: line %u: '%c' in the key is not a hex digit",
				 path, lineno, hi < 0 ? hex[i] : hex[i + 1]);
			return -EINVAL;
		}
		k->key[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	k->key_len = hex_len / 2;
	if (k->key_len < PSK_MIN_KEY_BYTES) {
		snprintf(err, err_len,
			 "--tls-psk %s: line %u: a key of %zu bytes is too short: at least %u (%u hex digits)",
			 path, lineno, k->key_len, PSK_MIN_KEY_BYTES,
			 PSK_MIN_KEY_BYTES * 2);
		return -EINVAL;
	}
	return 0;
}

static int read_small_file(const char *path, char *buf, size_t cap,
			   char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		snprintf(err, err_len, "--tls-psk %s: %s", path, strerror(errno));
		return -errno;
	}
	n = fread(buf, 1, cap, f);
	fclose(f);
	if (n == cap) {
		snprintf(err, err_len, "--tls-psk %s: larger than %zu bytes",
			 path, cap - 1);
		return -EFBIG;
	}
	buf[n] = '\0';
	return 0;
}

static int load_psk(struct mig_tls *t, const char *path, char *err,
		    size_t err_len)
{
	char *buf = malloc(PSK_FILE_MAX_BYTES + 1), *save = NULL, *line;
	unsigned int lineno = 0;
	int ret = buf ? 0 : -ENOMEM;
	bool bare = false;
	struct stat st;

	ret = ret ?: read_small_file(path, buf, PSK_FILE_MAX_BYTES + 1, err,
				     err_len);
	for (line = ret ? NULL : strtok_r(buf, "\n", &save); line && !ret;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (t->nr_keys == MIG_TLS_MAX_PSK_KEYS) {
			snprintf(err, err_len, "--tls-psk %s: more than %u keys",
				 path, MIG_TLS_MAX_PSK_KEYS);
			ret = -E2BIG;
			break;
		}
		bare |= !strchr(line, ':');
		ret = parse_psk_line(path, lineno, line, &t->keys[t->nr_keys++],
				     err, err_len);
	}
	if (!ret && (t->nr_keys == 0 || (bare && t->nr_keys > 1))) {
		snprintf(err, err_len, "--tls-psk %s: %s", path,
			 t->nr_keys ? "a key without identity: must be the only line" :
				      "no key in it");
		ret = -EINVAL;
	}
	if (!ret && stat(path, &st) == 0 && (st.st_mode & 077))
		log_err("warning: --tls-psk %s can be read by other users (mode %03o): whoever reads it can migrate guests to and from here",
			path, st.st_mode & 0777);
	free(buf);
	return ret;
}

/* The destination's lookup of the identity a source names. */
static int psk_server_key(gnutls_session_t session,
			  const gnutls_datum_t *identity, gnutls_datum_t *key)
{
	struct mig_tls_io *io = gnutls_session_get_ptr(session);

	for (unsigned int i = 0; i < io->t->nr_keys; i++) {
		const struct mig_tls_psk_key *k = &io->t->keys[i];

		if (strlen(k->identity) != identity->size ||
		    memcmp(k->identity, identity->data, identity->size))
			continue;
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
	const struct mig_tls_psk_key *k = &t->keys[0];
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
		ret = load_psk(t, o->psk, err, err_len);
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
	explicit_bzero(t->keys, sizeof(t->keys));
	free(t);
}
