// SPDX-License-Identifier: MIT
/*
 * The JSON parser (see json.h): strict RFC 8259 recursive descent into the
 * tree of json_value.c.
 *
 * kvmtrack never calls setlocale(), so strtod() uses the "C" locale and a
 * '.' decimal point, as JSON requires.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json/utf8.h"
#include "lib/json/value.h"

struct parser {
	const char *text;
	size_t len;
	size_t pos;
	int depth;
	char *err;
	size_t err_len;
};

static int parse_value(struct parser *p, struct json_value **out);

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
	*dst += json_utf8_encode(cp, *dst);
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
		n = json_utf8_decode((const unsigned char *)p->text + p->pos,
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
	v = json_value_new(JSON_NUMBER);
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
		*out = json_value_new(types[i]);
		if (!*out)
			return -ENOMEM;
		(*out)->boolean = i == 1;
		p->pos += n;
		return 0;
	}
	return expected(p, "a value");
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
		ret = json_value_append(obj, key, v);
	if (ret) {
		free(key);
		json_free(v);
	}
	return ret;
}

static int parse_element(struct parser *p, struct json_value *arr)
{
	struct json_value *v = NULL;
	int ret = parse_value(p, &v);

	if (!ret)
		ret = json_value_append(arr, NULL, v);
	if (ret)
		json_free(v);
	return ret;
}

/* Parses the members or elements of a container whose '{' or '[' is next. */
static int parse_container(struct parser *p, struct json_value *c)
{
	bool is_obj = c->type == JSON_OBJECT;
	char close = is_obj ? '}' : ']';
	size_t start = p->pos++;
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
		ret = is_obj ? parse_member(p, c) : parse_element(p, c);
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
		v = json_value_new(JSON_STRING);
		if (!v)
			return -ENOMEM;
		ret = parse_string(p, &v->string);
	} else if (c == '{' || c == '[') {
		v = json_value_new(c == '{' ? JSON_OBJECT : JSON_ARRAY);
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
