// SPDX-License-Identifier: MIT
/*
 * The streaming JSON writer (see json.h).
 *
 * kvmtrack never calls setlocale(), so printf("%g") and strtod() use the
 * "C" locale and a '.' decimal point, as JSON requires.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json/json.h"
#include "lib/json/utf8.h"

void jw_init(struct jw *w)
{
	memset(w, 0, sizeof(*w));
}

void jw_free(struct jw *w)
{
	free(w->buf);
	jw_init(w);
}

static void jw_put(struct jw *w, const char *s, size_t n)
{
	if (w->err)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		char *buf;

		while (cap < w->len + n + 1)
			cap *= 2;
		buf = realloc(w->buf, cap);
		if (!buf) {
			w->err = -ENOMEM;
			return;
		}
		w->buf = buf;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void jw_putc(struct jw *w, char c)
{
	jw_put(w, &c, 1);
}

/* A control character: its short escape (\n) if it has one, else \u00XX. */
static void jw_control_char(struct jw *w, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	static const char short_from[] = "\b\f\n\r\t", short_to[] = "bfnrt";
	const char *hit = memchr(short_from, c, 5);
	char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

	if (hit)
		esc[1] = short_to[hit - short_from];
	jw_put(w, esc, hit ? 2 : 6);
}

/*
 * Writes a quoted string. Invalid UTF-8 (a guest-provided name, a path)
 * becomes U+FFFD so that the output always parses.
 */
static void jw_quoted(struct jw *w, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, run;
	uint32_t cp;

	jw_putc(w, '"');
	while (i < n) {
		for (run = 0; i + run < n && u[i + run] >= 0x20 &&
			      u[i + run] < 0x80 && u[i + run] != '"' &&
			      u[i + run] != '\\';
		     run++)
			;
		jw_put(w, s + i, run);
		i += run;
		if (i >= n)
			break;
		if (u[i] == '"' || u[i] == '\\') {
			char esc[2] = { '\\', (char)u[i] };

			jw_put(w, esc, 2);
			i++;
		} else if (u[i] < 0x20) {
			jw_control_char(w, u[i]);
			i++;
		} else if ((run = json_utf8_decode(u + i, n - i, &cp))) {
			jw_put(w, s + i, run);
			i += run;
		} else {
			jw_put(w, "\\ufffd", 6);
			i++;
		}
	}
	jw_putc(w, '"');
}

/* Comma and key before a value; a second top-level value is an error. */
static void jw_prefix(struct jw *w, const char *key)
{
	if (w->depth == 0 && w->need_comma[0] && !w->err)
		w->err = -EINVAL;
	if (w->depth > 0 && w->need_comma[w->depth])
		jw_putc(w, ',');
	if (key) {
		jw_quoted(w, key);
		jw_putc(w, ':');
	}
	w->need_comma[w->depth] = true;
}

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_prefix(w, key);
	jw_putc(w, c);
	if (w->depth >= JSON_MAX_DEPTH) {
		if (!w->err)
			w->err = -E2BIG;
		return;
	}
	w->depth++;
	w->need_comma[w->depth] = false;
}

static void jw_close(struct jw *w, char c)
{
	if (w->depth == 0) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	jw_putc(w, c);
	w->depth--;
}

void jw_object_begin(struct jw *w, const char *key)
{
	jw_open(w, key, '{');
}

void jw_object_end(struct jw *w)
{
	jw_close(w, '}');
}

void jw_array_begin(struct jw *w, const char *key)
{
	jw_open(w, key, '[');
}

void jw_array_end(struct jw *w)
{
	jw_close(w, ']');
}

void jw_string(struct jw *w, const char *key, const char *val)
{
	if (!val) {
		jw_null(w, key);
		return;
	}
	jw_prefix(w, key);
	jw_quoted(w, val);
}

void jw_u64(struct jw *w, const char *key, uint64_t val)
{
	char num[24];

	jw_prefix(w, key);
	jw_put(w, num, (size_t)snprintf(num, sizeof(num), "%" PRIu64, val));
}

void jw_i64(struct jw *w, const char *key, int64_t val)
{
	char num[24];

	jw_prefix(w, key);
	jw_put(w, num, (size_t)snprintf(num, sizeof(num), "%" PRId64, val));
}

/* The shortest of %.15g..%.17g that reads back as the same double. */
void jw_double(struct jw *w, const char *key, double val)
{
	char num[32];
	int n = 0;

	if (!isfinite(val)) {
		jw_null(w, key);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(num, sizeof(num), "%.*g", prec, val);
		if (strtod(num, NULL) == val)
			break;
	}
	jw_prefix(w, key);
	jw_put(w, num, (size_t)n);
}

void jw_bool(struct jw *w, const char *key, bool val)
{
	jw_raw(w, key, val ? "true" : "false");
}

void jw_null(struct jw *w, const char *key)
{
	jw_raw(w, key, "null");
}

void jw_raw(struct jw *w, const char *key, const char *json)
{
	jw_prefix(w, key);
	jw_put(w, json, strlen(json));
}

void jw_value(struct jw *w, const char *key, const struct json_value *v)
{
	if (!v) {
		jw_null(w, key);
		return;
	}
	switch (v->type) {
	case JSON_NULL:
		jw_null(w, key);
		break;
	case JSON_BOOL:
		jw_bool(w, key, v->boolean);
		break;
	case JSON_NUMBER:
		if (v->is_integer && !(v->integer == 0 && signbit(v->number)))
			jw_i64(w, key, v->integer);
		else if (v->integer)
			jw_u64(w, key, (uint64_t)v->integer);
		else
			jw_double(w, key, v->number);
		break;
	case JSON_STRING:
		jw_string(w, key, v->string);
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		jw_open(w, key, v->type == JSON_ARRAY ? '[' : '{');
		for (size_t i = 0; i < v->nr_items; i++)
			jw_value(w, v->keys ? v->keys[i] : NULL, v->items[i]);
		jw_close(w, v->type == JSON_ARRAY ? ']' : '}');
		break;
	}
}

const char *jw_finish(struct jw *w)
{
	if (!w->err && w->depth != 0)
		w->err = -EINVAL;
	jw_put(w, "", 0);
	if (w->err)
		return NULL;
	w->buf[w->len] = '\0';
	return w->buf;
}
