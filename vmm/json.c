// SPDX-License-Identifier: MIT
/*
 * JSON for the control socket (see json.h): a strict RFC 8259 recursive
 * descent parser into a small tree, and a streaming writer.
 *
 * kvmtrack never calls setlocale(), so strtod() and printf("%g") use the
 * "C" locale and a '.' decimal point, as JSON requires.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/json.h"

#define JSON_MAX_DEPTH 32
#define JSON_MAX_BYTES (1u << 20)

struct parser {
	const char *text;
	size_t len;
	size_t pos;
	int depth;
	char *err;
	size_t err_len;
};

static int parse_value(struct parser *p, struct json_value **out);

/*
 * Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid: overlong
 * forms, surrogates and code points above U+10FFFF are refused.
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc0 && s[0] < 0xe0)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] < 0xf0)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] < 0xf8)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	c = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min_cp[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

__attribute__((format(printf, 3, 4))) static int
fail(struct parser *p, size_t offset, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err && p->err_len)
		snprintf(p->err, p->err_len, "json: offset %zu: %s", offset,
			 msg);
	return -EINVAL;
}

/* "expected X, found Y" at the current position. */
static int expected(struct parser *p, const char *what)
{
	unsigned char c;

	if (p->pos >= p->len)
		return fail(p, p->pos, "expected %s, found end of input",
			    what);
	c = (unsigned char)p->text[p->pos];
	if (c >= 0x20 && c < 0x7f)
		return fail(p, p->pos, "expected %s, found '%c'", what, c);
	return fail(p, p->pos, "expected %s, found byte 0x%02x", what, c);
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->text[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static bool peek(struct parser *p, char c)
{
	return p->pos < p->len && p->text[p->pos] == c;
}

static struct json_value *new_value(enum json_type type)
{
	struct json_value *v = calloc(1, sizeof(*v));

	if (v)
		v->type = type;
	return v;
}

static int hex4(struct parser *p, size_t at, uint32_t *out)
{
	uint32_t cp = 0;

	for (size_t i = at; i < at + 4; i++) {
		char c = i < p->len ? p->text[i] : 0;

		cp <<= 4;
		if (c >= '0' && c <= '9')
			cp |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			cp |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			cp |= (uint32_t)(c - 'A' + 10);
		else
			return fail(p, at - 2,
				    "expected 4 hex digits after '\\u'");
	}
	*out = cp;
	return 0;
}

/* Decodes \uXXXX (and its low surrogate) at p->pos, which is at the 'u'. */
static int parse_u_escape(struct parser *p, char **dst)
{
	size_t start = p->pos - 1;
	uint32_t cp, lo;
	int ret = hex4(p, p->pos + 1, &cp);

	if (ret)
		return ret;
	p->pos += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(p, start, "unpaired low surrogate \\u%04x", cp);
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (p->pos + 1 >= p->len || p->text[p->pos] != '\\' ||
		    p->text[p->pos + 1] != 'u')
			return fail(p, start, "unpaired high surrogate \\u%04x",
				    cp);
		ret = hex4(p, p->pos + 2, &lo);
		if (ret)
			return ret;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(p, start, "unpaired high surrogate \\u%04x",
				    cp);
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p->pos += 6;
	}
	/* Our strings are NUL-terminated C strings: a NUL cannot be kept. */
	if (cp == 0)
		return fail(p, start, "\\u0000 is not supported in strings");
	*dst += utf8_encode(cp, *dst);
	return 0;
}

static int parse_escape(struct parser *p, char **dst)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	char c = p->text[p->pos + 1];
	const char *hit = c ? strchr(from, c) : NULL;

	p->pos++;
	if (c == 'u')
		return parse_u_escape(p, dst);
	if (!hit)
		return fail(p, p->pos - 1, "invalid escape '\\%c' in string",
			    c >= 0x20 && c < 0x7f ? c : '?');
	*(*dst)++ = to[hit - from];
	p->pos++;
	return 0;
}

/* Decodes text[p->pos + 1 .. end) (between the quotes) into dst. */
static int decode_string(struct parser *p, size_t end, char *dst)
{
	while (p->pos < end) {
		unsigned char c = (unsigned char)p->text[p->pos];
		uint32_t cp;
		size_t n;
		int ret;

		if (c == '\\') {
			ret = parse_escape(p, &dst);
			if (ret)
				return ret;
			continue;
		}
		if (c < 0x20)
			return fail(p, p->pos,
				    "unescaped control character 0x%02x in string",
				    c);
		n = utf8_decode((const unsigned char *)p->text + p->pos,
				end - p->pos, &cp);
		if (!n)
			return fail(p, p->pos, "invalid UTF-8 in string");
		memcpy(dst, p->text + p->pos, n);
		dst += n;
		p->pos += n;
	}
	*dst = '\0';
	return 0;
}

static int parse_string(struct parser *p, char **out)
{
	size_t start = p->pos, end = p->pos + 1;
	char *s;
	int ret;

	/* Find the closing quote first so the copy is allocated once. */
	while (end < p->len && p->text[end] != '"')
		end += p->text[end] == '\\' ? 2 : 1;
	if (end >= p->len)
		return fail(p, start, "unterminated string");
	s = malloc(end - start);
	if (!s)
		return -ENOMEM;
	p->pos++;
	ret = decode_string(p, end, s);
	if (ret) {
		free(s);
		return ret;
	}
	p->pos = end + 1;
	*out = s;
	return 0;
}

static size_t scan_digits(struct parser *p)
{
	size_t n = 0;

	while (p->pos < p->len && p->text[p->pos] >= '0' &&
	       p->text[p->pos] <= '9') {
		p->pos++;
		n++;
	}
	return n;
}

/* Checks the number grammar; *integral is false with a fraction/exponent. */
static int scan_number(struct parser *p, bool *integral)
{
	size_t first;

	if (peek(p, '-'))
		p->pos++;
	first = p->pos;
	if (!scan_digits(p))
		return expected(p, "a digit");
	if (p->text[first] == '0' && p->pos - first > 1)
		return fail(p, first, "leading zero in number");
	*integral = true;
	if (peek(p, '.')) {
		p->pos++;
		*integral = false;
		if (!scan_digits(p))
			return expected(p, "a digit after '.'");
	}
	if (peek(p, 'e') || peek(p, 'E')) {
		p->pos++;
		*integral = false;
		if (peek(p, '+') || peek(p, '-'))
			p->pos++;
		if (!scan_digits(p))
			return expected(p, "a digit in the exponent");
	}
	return 0;
}

/*
 * Integers are kept exactly. An integer literal above INT64_MAX but within
 * uint64 is not `is_integer` (the field promises int64); its exact value is
 * kept as a uint64 bit pattern in `integer`, which is otherwise 0 when
 * !is_integer. json_get_u64() and jw_value() know this.
 */
static void set_integer(struct json_value *v, const char *s)
{
	unsigned long long u;
	long long i;

	errno = 0;
	if (s[0] == '-') {
		i = strtoll(s, NULL, 10);
		if (!errno) {
			v->is_integer = true;
			v->integer = i;
		}
		return;
	}
	u = strtoull(s, NULL, 10);
	if (errno)
		return;
	if (u <= INT64_MAX)
		v->is_integer = true;
	v->integer = (int64_t)u;
}

static int parse_number(struct parser *p, struct json_value **out)
{
	size_t start = p->pos;
	struct json_value *v;
	bool integral;
	char *s;
	int ret = scan_number(p, &integral);

	if (ret)
		return ret;
	s = strndup(p->text + start, p->pos - start);
	v = new_value(JSON_NUMBER);
	if (!s || !v) {
		free(s);
		free(v);
		return -ENOMEM;
	}
	v->number = strtod(s, NULL);
	if (integral)
		set_integer(v, s);
	free(s);
	if (isinf(v->number)) {
		free(v);
		return fail(p, start, "number out of range");
	}
	*out = v;
	return 0;
}

static int parse_literal(struct parser *p, struct json_value **out)
{
	static const char *const words[] = { "null", "true", "false" };
	static const enum json_type types[] = { JSON_NULL, JSON_BOOL,
						JSON_BOOL };

	for (int i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);

		if (p->text[p->pos] != words[i][0])
			continue;
		if (p->len - p->pos < n ||
		    memcmp(p->text + p->pos, words[i], n))
			return fail(p, p->pos, "invalid literal, expected '%s'",
				    words[i]);
		*out = new_value(types[i]);
		if (!*out)
			return -ENOMEM;
		(*out)->boolean = i == 1;
		p->pos += n;
		return 0;
	}
	return expected(p, "a value");
}

static int append(struct json_value *parent, char *key, struct json_value *v)
{
	size_t n = parent->nr_items;

	/* Grow at powers of two: n is a power of two when the array is full. */
	if (n == 0 || (n & (n - 1)) == 0) {
		size_t cap = n ? 2 * n : 4;
		struct json_value **items =
			realloc(parent->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		parent->items = items;
		if (parent->type == JSON_OBJECT) {
			char **keys = realloc(parent->keys, cap * sizeof(*keys));

			if (!keys)
				return -ENOMEM;
			parent->keys = keys;
		}
	}
	parent->items[n] = v;
	if (parent->type == JSON_OBJECT)
		parent->keys[n] = key;
	parent->nr_items = n + 1;
	return 0;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Duplicate keys make a request ambiguous; sorting keeps this O(n log n). */
static int check_duplicates(struct parser *p, struct json_value *obj,
			    size_t start)
{
	size_t n = obj->nr_items;
	char **sorted;
	int ret = 0;

	if (n < 2)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, obj->keys, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_keys);
	for (size_t i = 1; i < n && !ret; i++)
		if (!strcmp(sorted[i - 1], sorted[i]))
			ret = fail(p, start,
				   "duplicate key \"%.40s\" in object",
				   sorted[i]);
	free(sorted);
	return ret;
}

static int parse_member(struct parser *p, struct json_value *obj)
{
	struct json_value *v = NULL;
	char *key = NULL;
	int ret;

	skip_ws(p);
	if (!peek(p, '"'))
		return expected(p, "a string as object key");
	ret = parse_string(p, &key);
	if (ret)
		return ret;
	skip_ws(p);
	if (!peek(p, ':')) {
		free(key);
		return expected(p, "':' after object key");
	}
	p->pos++;
	ret = parse_value(p, &v);
	if (!ret)
		ret = append(obj, key, v);
	if (ret) {
		free(key);
		json_free(v);
	}
	return ret;
}

/* Parses the members or elements of a container whose '{' or '[' is next. */
static int parse_container(struct parser *p, struct json_value *c)
{
	bool is_obj = c->type == JSON_OBJECT;
	char close = is_obj ? '}' : ']';
	size_t start = p->pos++;
	struct json_value *v;
	int ret;

	if (++p->depth > JSON_MAX_DEPTH)
		return fail(p, start, "nesting deeper than %d levels",
			    JSON_MAX_DEPTH);
	skip_ws(p);
	if (peek(p, close)) {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		if (is_obj) {
			ret = parse_member(p, c);
		} else {
			v = NULL;
			ret = parse_value(p, &v);
			if (!ret)
				ret = append(c, NULL, v);
			if (ret)
				json_free(v);
		}
		if (ret)
			return ret;
		skip_ws(p);
		if (peek(p, close))
			break;
		if (!peek(p, ','))
			return expected(p, is_obj ?
						   "',' or '}' after object member" :
						   "',' or ']' after array element");
		p->pos++;
	}
	p->pos++;
	p->depth--;
	return is_obj ? check_duplicates(p, c, start) : 0;
}

static int parse_value(struct parser *p, struct json_value **out)
{
	struct json_value *v;
	char c;
	int ret;

	skip_ws(p);
	if (p->pos >= p->len)
		return expected(p, "a value");
	c = p->text[p->pos];
	if (c == '"') {
		v = new_value(JSON_STRING);
		if (!v)
			return -ENOMEM;
		ret = parse_string(p, &v->string);
	} else if (c == '{' || c == '[') {
		v = new_value(c == '{' ? JSON_OBJECT : JSON_ARRAY);
		if (!v)
			return -ENOMEM;
		ret = parse_container(p, v);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		return parse_number(p, out);
	} else {
		return parse_literal(p, out);
	}
	if (ret) {
		json_free(v);
		return ret;
	}
	*out = v;
	return 0;
}

int json_parse(const char *text, size_t len, struct json_value **out,
	       char *err, size_t err_len)
{
	struct parser p = { .text = text, .len = len, .err = err,
			    .err_len = err_len };
	struct json_value *v = NULL;
	int ret;

	*out = NULL;
	if (len > JSON_MAX_BYTES) {
		if (err && err_len)
			snprintf(err, err_len,
				 "json: input of %zu bytes exceeds the 1 MiB limit",
				 len);
		return -EINVAL;
	}
	ret = parse_value(&p, &v);
	if (ret == -ENOMEM && err && err_len)
		snprintf(err, err_len, "json: out of memory");
	if (ret)
		return ret;
	skip_ws(&p);
	if (p.pos < len) {
		json_free(v);
		return expected(&p, "end of input after the value");
	}
	*out = v;
	return 0;
}

void json_free(struct json_value *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nr_items; i++) {
		json_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->string);
	free(v);
}

const struct json_value *json_get(const struct json_value *obj,
				  const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->nr_items; i++)
		if (!strcmp(obj->keys[i], key))
			return obj->items[i];
	return NULL;
}

int json_get_string(const struct json_value *obj, const char *key,
		    const char **out)
{
	const struct json_value *v = json_get(obj, key);

	if (!v)
		return -ENOENT;
	if (v->type != JSON_STRING)
		return -EINVAL;
	*out = v->string;
	return 0;
}

/* See set_integer() for integers above INT64_MAX. */
int json_get_u64(const struct json_value *obj, const char *key,
		 uint64_t *out)
{
	const struct json_value *v = json_get(obj, key);

	if (!v)
		return -ENOENT;
	if (v->type != JSON_NUMBER)
		return -EINVAL;
	if (v->is_integer && v->integer >= 0)
		*out = (uint64_t)v->integer;
	else if (!v->is_integer && v->integer != 0)
		*out = (uint64_t)v->integer;
	/* 1e9 is an exact integer too, up to 2^53 where doubles stay exact. */
	else if (!v->is_integer && v->number >= 0 &&
		 v->number <= 9007199254740992.0 &&
		 v->number == (double)(uint64_t)v->number)
		*out = (uint64_t)v->number;
	else
		return -EINVAL;
	return 0;
}

int json_get_bool(const struct json_value *obj, const char *key, bool *out)
{
	const struct json_value *v = json_get(obj, key);

	if (!v)
		return -ENOENT;
	if (v->type != JSON_BOOL)
		return -EINVAL;
	*out = v->boolean;
	return 0;
}

/* --- writer ------------------------------------------------------------ */

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

/*
 * Writes a quoted string. Invalid UTF-8 (a guest-provided name, a path)
 * becomes U+FFFD so that the output always parses.
 */
static void jw_quoted(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	static const char short_from[] = "\b\f\n\r\t", short_to[] = "bfnrt";
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
			const char *hit = memchr(short_from, u[i], 5);
			char esc[6] = { '\\', 'u', '0', '0', hex[u[i] >> 4],
					hex[u[i] & 15] };

			if (hit)
				esc[1] = short_to[hit - short_from];
			jw_put(w, esc, hit ? 2 : 6);
			i++;
		} else if ((run = utf8_decode(u + i, n - i, &cp))) {
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
