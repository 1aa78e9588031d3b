// SPDX-License-Identifier: MIT
/* keys.psk files (psk_file.h). */
#include "lib/psk_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/log.h"

/* Lines of a keys.psk file: QEMU's limit on the file is far above this. */
#define PSK_FILE_MAX_BYTES 65536

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* What a line is parsed against: the option and file for messages. */
struct psk_src {
	const char *opt, *path;
	unsigned int lineno;
};

static int parse_hex(const struct psk_src *s, const char *hex,
		     struct psk_key *k, char *err, size_t err_len)
{
	size_t hex_len = strlen(hex);

	if (hex_len % 2 || hex_len / 2 > sizeof(k->key)) {
		snprintf(err, err_len,
			 "%s %s: line %u: the key must be an even number of hex digits, at most %zu",
			 s->opt, s->path, s->lineno, sizeof(k->key) * 2);
		return -EINVAL;
	}
	for (size_t i = 0; i < hex_len; i += 2) {
		int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);

		if (hi < 0 || lo < 0) {
			snprintf(err, err_len,
				 "%s %s: line %u: '%c' in the key is not a hex digit",
				 s->opt, s->path, s->lineno,
				 hi < 0 ? hex[i] : hex[i + 1]);
			return -EINVAL;
		}
		k->key[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	k->key_len = hex_len / 2;
	if (k->key_len < PSK_MIN_KEY_BYTES) {
		snprintf(err, err_len,
			 "%s %s: line %u: a key of %zu bytes is too short: at least %u (%u hex digits)",
			 s->opt, s->path, s->lineno, k->key_len,
			 PSK_MIN_KEY_BYTES, PSK_MIN_KEY_BYTES * 2);
		return -EINVAL;
	}
	return 0;
}

/* One "identity:hexkey" line, or a bare hex key (PSK_DEFAULT_ID). */
static int parse_line(const struct psk_src *s, char *line, struct psk_key *k,
		      char *err, size_t err_len)
{
	char *colon = strchr(line, ':');
	size_t id_len = colon ? (size_t)(colon - line) : 0;

	if (colon && (id_len == 0 || id_len >= sizeof(k->identity))) {
		snprintf(err, err_len, "%s %s: line %u: %s identity", s->opt,
			 s->path, s->lineno,
			 id_len ? "an overlong" : "an empty");
		return -EINVAL;
	}
	memcpy(k->identity, colon ? line : PSK_DEFAULT_ID,
	       colon ? id_len : sizeof(PSK_DEFAULT_ID) - 1);
	return parse_hex(s, colon ? colon + 1 : line, k, err, err_len);
}

static int read_small_file(const struct psk_src *s, char *buf, size_t cap,
			   char *err, size_t err_len)
{
	FILE *f = fopen(s->path, "r");
	size_t n;

	if (!f) {
		snprintf(err, err_len, "%s %s: %s", s->opt, s->path,
			 strerror(errno));
		return -errno;
	}
	n = fread(buf, 1, cap, f);
	fclose(f);
	if (n == cap) {
		snprintf(err, err_len, "%s %s: larger than %zu bytes", s->opt,
			 s->path, cap - 1);
		return -EFBIG;
	}
	buf[n] = '\0';
	return 0;
}

int psk_file_load(const char *path, const char *opt, const char *exposes,
		  struct psk_keys *keys, char *err, size_t err_len)
{
	char *buf = malloc(PSK_FILE_MAX_BYTES + 1), *save = NULL, *line;
	struct psk_src s = { .opt = opt, .path = path };
	int ret = buf ? 0 : -ENOMEM;
	bool bare = false;
	struct stat st;

	memset(keys, 0, sizeof(*keys));
	ret = ret ?: read_small_file(&s, buf, PSK_FILE_MAX_BYTES + 1, err,
				     err_len);
	for (line = ret ? NULL : strtok_r(buf, "\n", &save); line && !ret;
	     line = strtok_r(NULL, "\n", &save)) {
		s.lineno++;
		line[strcspn(line, "\r")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (keys->nr == PSK_MAX_KEYS) {
			snprintf(err, err_len, "%s %s: more than %u keys", opt,
				 path, PSK_MAX_KEYS);
			ret = -E2BIG;
			break;
		}
		bare |= !strchr(line, ':');
		ret = parse_line(&s, line, &keys->keys[keys->nr++], err,
				 err_len);
	}
	if (!ret && (keys->nr == 0 || (bare && keys->nr > 1))) {
		snprintf(err, err_len, "%s %s: %s", opt, path,
			 keys->nr ? "a key without identity: must be the only line" :
				    "no key in it");
		ret = -EINVAL;
	}
	if (!ret && stat(path, &st) == 0 && (st.st_mode & 077))
		log_err("warning: %s %s can be read by other users (mode %03o): whoever reads it can %s",
			opt, path, st.st_mode & 0777, exposes);
	if (buf)
		explicit_bzero(buf, PSK_FILE_MAX_BYTES + 1);
	free(buf);
	if (ret)
		psk_keys_wipe(keys);
	return ret;
}

const struct psk_key *psk_find(const struct psk_keys *keys, const char *id,
			       size_t id_len)
{
	for (unsigned int i = 0; i < keys->nr; i++)
		if (strlen(keys->keys[i].identity) == id_len &&
		    !memcmp(keys->keys[i].identity, id, id_len))
			return &keys->keys[i];
	return NULL;
}

void psk_keys_wipe(struct psk_keys *keys)
{
	explicit_bzero(keys, sizeof(*keys));
}
