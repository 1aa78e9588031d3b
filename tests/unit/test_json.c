// SPDX-License-Identifier: MIT
/*
 * json_parse() on valid and invalid texts (with the message it gives),
 * exact integers, unicode escapes, the limits, and the writer: escaping,
 * doubles that read back equal, and writer -> parser round trips.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json/json.h"

static struct json_value *parse_ok(const char *text)
{
	struct json_value *v = NULL;
	char err[256] = "";
	int ret = json_parse(text, strlen(text), &v, err, sizeof(err));

	cr_assert_eq(ret, 0, "parsing '%s' failed: %s", text, err);
	cr_assert_not_null(v);
	return v;
}

/* Parses an invalid text and checks that the message contains `want`. */
static void parse_bad(const char *text, size_t len, const char *want)
{
	struct json_value *v = (struct json_value *)1;
	char err[256] = "";
	int ret = json_parse(text, len, &v, err, sizeof(err));

	cr_assert_eq(ret, -EINVAL, "'%s' was accepted", text);
	cr_assert_null(v, "no tree on failure");
	cr_assert(strstr(err, want), "'%s': message '%s' lacks '%s'", text,
		  err, want);
}

static void parse_bad_str(const char *text, const char *want)
{
	parse_bad(text, strlen(text), want);
}

/* Writes v back as text and compares with `want`. */
static void assert_writes(const struct json_value *v, const char *want)
{
	struct jw w;
	const char *text;

	jw_init(&w);
	jw_value(&w, NULL, v);
	text = jw_finish(&w);
	cr_assert_not_null(text);
	cr_assert_str_eq(text, want);
	jw_free(&w);
}

Test(json, scalars)
{
	struct json_value *v = parse_ok(" [true, false, null, \"x\", -1.5] ");

	cr_assert_eq(v->type, JSON_ARRAY);
	cr_assert_eq(v->nr_items, 5);
	cr_assert(v->items[0]->type == JSON_BOOL && v->items[0]->boolean);
	cr_assert(v->items[1]->type == JSON_BOOL && !v->items[1]->boolean);
	cr_assert_eq(v->items[2]->type, JSON_NULL);
	cr_assert_str_eq(v->items[3]->string, "x");
	cr_assert_eq(v->items[4]->number, -1.5);
	cr_assert_not(v->items[4]->is_integer);
	json_free(v);
}

Test(json, object_members_and_getters)
{
	struct json_value *v = parse_ok(
		"{\"name\":\"vm0\",\"mem\":268435456,\"on\":true,\"e\":1e3,"
		"\"neg\":-4,\"o\":{}}");
	const char *s;
	uint64_t u;
	bool b;

	cr_assert_eq(json_get_string(v, "name", &s), 0);
	cr_assert_str_eq(s, "vm0");
	cr_assert_eq(json_get_u64(v, "mem", &u), 0);
	cr_assert_eq(u, 268435456);
	cr_assert_eq(json_get_u64(v, "e", &u), 0, "1e3 is an exact integer");
	cr_assert_eq(u, 1000);
	cr_assert_eq(json_get_bool(v, "on", &b), 0);
	cr_assert(b);
	cr_assert_eq(json_get_u64(v, "neg", &u), -EINVAL);
	cr_assert_eq(json_get_u64(v, "name", &u), -EINVAL);
	cr_assert_eq(json_get_string(v, "mem", &s), -EINVAL);
	cr_assert_eq(json_get_bool(v, "missing", &b), -ENOENT);
	cr_assert_null(json_get(v->items[0], "name"), "not an object");
	cr_assert_eq(json_get(v, "o")->type, JSON_OBJECT);
	json_free(v);
}

Test(json, big_integers_exact)
{
	struct json_value *v = parse_ok(
		"{\"a\":9007199254740993,\"min\":-9223372036854775808,"
		"\"max\":9223372036854775807,\"u\":18446744073709551615,"
		"\"over\":18446744073709551616}");
	uint64_t u;

	cr_assert(json_get(v, "a")->is_integer);
	cr_assert_eq(json_get(v, "a")->integer, 9007199254740993ll,
		     "2^53 + 1 must not be rounded");
	cr_assert_eq(json_get(v, "min")->integer, INT64_MIN);
	cr_assert_eq(json_get(v, "max")->integer, INT64_MAX);
	cr_assert_not(json_get(v, "u")->is_integer, "does not fit int64");
	cr_assert_eq(json_get_u64(v, "u", &u), 0);
	cr_assert_eq(u, UINT64_MAX);
	cr_assert_eq(json_get_u64(v, "over", &u), -EINVAL);
	assert_writes(v, "{\"a\":9007199254740993,\"min\":-9223372036854775808,"
			 "\"max\":9223372036854775807,"
			 "\"u\":18446744073709551615,"
			 "\"over\":1.8446744073709552e+19}");
	json_free(v);
}

Test(json, unicode_escapes)
{
	struct json_value *v = parse_ok(
		"[\"\\u00e9\", \"\\u20AC\", \"\\ud83d\\ude00\", \"\\\"\\\\\\/"
		"\\b\\f\\n\\r\\t\", \"caf\xc3\xa9 \xf0\x9f\x98\x80\"]");

	cr_assert_str_eq(v->items[0]->string, "\xc3\xa9");
	cr_assert_str_eq(v->items[1]->string, "\xe2\x82\xac");
	cr_assert_str_eq(v->items[2]->string, "\xf0\x9f\x98\x80");
	cr_assert_str_eq(v->items[3]->string, "\"\\/\b\f\n\r\t");
	cr_assert_str_eq(v->items[4]->string, "caf\xc3\xa9 \xf0\x9f\x98\x80");
	json_free(v);
}

Test(json, invalid_strings)
{
	parse_bad_str("\"abc", "json: offset 0: unterminated string");
	parse_bad_str("[\"a\\", "offset 1: unterminated string");
	parse_bad_str("\"a\\x\"", "offset 2: invalid escape '\\x'");
	parse_bad_str("\"\\u12g4\"", "offset 1: expected 4 hex digits");
	parse_bad_str("\"\\ud83d\"", "unpaired high surrogate");
	parse_bad_str("\"\\ud83d\\u0041\"", "unpaired high surrogate");
	parse_bad_str("\"\\ude00\"", "unpaired low surrogate");
	parse_bad_str("\"\\u0000\"", "\\u0000 is not supported");
	parse_bad_str("\"a\tb\"", "offset 2: unescaped control character 0x09");
	parse_bad_str("\"\xc0\x80\"", "offset 1: invalid UTF-8");
	parse_bad_str("\"\xed\xa0\x80\"", "invalid UTF-8"); /* a surrogate */
	parse_bad_str("\"\xff\"", "invalid UTF-8");
	parse_bad_str("'a'", "expected a value, found '''");
}

Test(json, invalid_structure)
{
	parse_bad_str("", "offset 0: expected a value, found end of input");
	parse_bad_str("   ", "offset 3: expected a value");
	parse_bad_str("{\"a\" 1}",
		      "json: offset 5: expected ':' after object key, found '1'");
	parse_bad_str("{\"a\":1,}", "offset 7: expected a string as object key");
	parse_bad_str("{1:2}", "offset 1: expected a string as object key");
	parse_bad_str("[1,]", "offset 3: expected a value, found ']'");
	parse_bad_str("[1 2]", "offset 3: expected ',' or ']' after array");
	parse_bad_str("{\"a\":1", "expected ',' or '}' after object member");
	parse_bad_str("{} x", "offset 3: expected end of input after the value");
	parse_bad_str("{\"a\":1,\"a\":2}", "duplicate key \"a\"");
	parse_bad_str("tru", "offset 0: invalid literal, expected 'true'");
	parse_bad_str("nul", "invalid literal, expected 'null'");
	parse_bad_str("/* c */ 1", "expected a value, found '/'");
	parse_bad("[1]\0", 4, "offset 3: expected end of input");
}

Test(json, invalid_numbers)
{
	parse_bad_str("01", "offset 0: leading zero");
	parse_bad_str("-", "offset 1: expected a digit, found end of input");
	parse_bad_str("-a", "expected a digit, found 'a'");
	parse_bad_str("1.", "expected a digit after '.'");
	parse_bad_str("1.e5", "expected a digit after '.'");
	parse_bad_str("1e", "expected a digit in the exponent");
	parse_bad_str(".5", "expected a value, found '.'");
	parse_bad_str("+1", "expected a value, found '+'");
	parse_bad_str("NaN", "expected a value");
	parse_bad_str("Infinity", "expected a value");
	parse_bad_str("1e999", "offset 0: number out of range");
}

static char *nested(int depth)
{
	char *s = malloc(2 * (size_t)depth + 1);

	memset(s, '[', (size_t)depth);
	memset(s + depth, ']', (size_t)depth);
	s[2 * depth] = '\0';
	return s;
}

Test(json, depth_limit)
{
	char *ok = nested(32), *deep = nested(33);
	struct json_value *v = parse_ok(ok);

	json_free(v);
	parse_bad_str(deep, "offset 32: nesting deeper than 32 levels");
	free(ok);
	free(deep);
}

Test(json, size_limit)
{
	size_t len = (1u << 20) + 1;
	char *big = malloc(len);

	/* A string of spaces: only the size makes it invalid. */
	memset(big, ' ', len);
	big[0] = '"';
	big[len - 1] = '"';
	parse_bad(big, len, "exceeds the 1 MiB limit");
	big[len - 2] = '"';
	{
		struct json_value *v = NULL;
		char err[256] = "";
		int ret = json_parse(big, len - 1, &v, err, sizeof(err));

		cr_assert_eq(ret, 0, "1 MiB is allowed: %s", err);
		cr_assert_eq(strlen(v->string), len - 3);
		json_free(v);
	}
	free(big);
}

Test(json, writer_escaping)
{
	struct jw w;
	const char *text;

	jw_init(&w);
	jw_object_begin(&w, NULL);
	jw_string(&w, "q\"k", "a\"b\\c/\n\t\x01\x1f\x7f");
	jw_string(&w, "utf8", "\xc3\xa9");
	jw_string(&w, "bad", "x\xff" "y\xc0\x80");
	jw_string(&w, "none", NULL);
	jw_object_end(&w);
	text = jw_finish(&w);
	cr_assert_str_eq(text,
			 "{\"q\\\"k\":\"a\\\"b\\\\c/\\n\\t\\u0001"
			 "\\u001f\x7f\",\"utf8\":\"\xc3\xa9\","
			 "\"bad\":\"x\\ufffdy\\ufffd\\ufffd\",\"none\":null}");
	jw_free(&w);
}

Test(json, writer_round_trip)
{
	static const double doubles[] = { 0.1, -2.5e-308, 1e300, 3.141592653589793,
					  5e-324, 1.7976931348623157e308, -0.0 };
	struct json_value *v;
	struct jw w;
	const char *text;

	jw_init(&w);
	jw_object_begin(&w, NULL);
	jw_u64(&w, "u", UINT64_MAX);
	jw_i64(&w, "i", INT64_MIN);
	jw_bool(&w, "t", true);
	jw_null(&w, "n");
	jw_double(&w, "nan", NAN);
	jw_double(&w, "inf", -INFINITY);
	jw_raw(&w, "raw", "[1,{\"x\":[]}]");
	jw_array_begin(&w, "d");
	for (size_t i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++)
		jw_double(&w, NULL, doubles[i]);
	jw_array_end(&w);
	jw_string(&w, "s", "line\nbreak \"q\" \xf0\x9f\x98\x80");
	jw_object_end(&w);
	text = jw_finish(&w);
	cr_assert_not_null(text);
	v = parse_ok(text);
	cr_assert_eq(json_get(v, "i")->integer, INT64_MIN);
	cr_assert(json_get(v, "t")->boolean);
	cr_assert_eq(json_get(v, "nan")->type, JSON_NULL, "NaN is written null");
	cr_assert_eq(json_get(v, "inf")->type, JSON_NULL);
	cr_assert_eq(json_get(v, "raw")->items[1]->type, JSON_OBJECT);
	for (size_t i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++)
		cr_assert_eq(json_get(v, "d")->items[i]->number, doubles[i],
			     "double %zu changed", i);
	cr_assert(signbit(json_get(v, "d")->items[6]->number), "-0 kept");
	cr_assert_str_eq(json_get(v, "s")->string,
			 "line\nbreak \"q\" \xf0\x9f\x98\x80");
	assert_writes(v, text); /* parse -> write gives the same text */
	json_free(v);
	jw_free(&w);
}

Test(json, writer_short_doubles)
{
	struct jw w;

	jw_init(&w);
	jw_array_begin(&w, NULL);
	jw_double(&w, NULL, 0.1);
	jw_double(&w, NULL, 2.0);
	jw_double(&w, NULL, 1e21);
	jw_array_end(&w);
	cr_assert_str_eq(jw_finish(&w), "[0.1,2,1e+21]");
	jw_free(&w);
}

Test(json, writer_errors)
{
	struct jw w;

	jw_init(&w);
	jw_object_end(&w);
	cr_assert_null(jw_finish(&w), "end without begin");
	jw_free(&w);

	jw_init(&w);
	jw_object_begin(&w, NULL);
	cr_assert_null(jw_finish(&w), "unclosed object");
	jw_free(&w);

	jw_init(&w);
	jw_u64(&w, NULL, 1);
	jw_u64(&w, NULL, 2);
	cr_assert_null(jw_finish(&w), "two top-level values");
	jw_free(&w);

	jw_init(&w);
	for (int i = 0; i < 33; i++)
		jw_array_begin(&w, NULL);
	for (int i = 0; i < 33; i++)
		jw_array_end(&w);
	cr_assert_null(jw_finish(&w), "deeper than 32");
	cr_assert_eq(w.err, -E2BIG);
	jw_free(&w);

	jw_init(&w);
	cr_assert_str_eq(jw_finish(&w), "", "nothing written");
	jw_free(&w);
}

Test(json, optional_arguments_keep_defaults_and_name_bad_keys)
{
	struct json_value *v = NULL;
	char err[128] = "";
	uint64_t n = 7;
	bool b = true;
	const char *text = "{\"n\": 3, \"s\": \"x\", \"b\": false}";

	cr_assert_eq(json_parse(text, strlen(text), &v, err, sizeof(err)), 0);
	cr_expect_eq(json_opt_u64(v, "absent", &n, err, sizeof(err)), 0);
	cr_expect_eq(n, 7, "an absent key keeps the default");
	cr_expect_eq(json_opt_u64(v, "n", &n, err, sizeof(err)), 0);
	cr_expect_eq(n, 3);
	cr_expect_eq(json_opt_bool(v, "b", &b, err, sizeof(err)), 0);
	cr_expect(!b);
	cr_expect_eq(json_opt_u64(v, "s", &n, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "'s' must be a non-negative integer"), "%s", err);
	cr_expect_eq(json_opt_bool(v, "n", &b, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "'n' must be true or false"), "%s", err);
	json_free(v);
}
