/* SPDX-License-Identifier: MIT */
/*
 * Minimal JSON for the control socket: a parser into a small tree and a
 * streaming writer. Strings are UTF-8; numbers are kept as double and, when
 * they are integers, also as int64/uint64 exactly.
 */
#ifndef KVMTRACK_JSON_H
#define KVMTRACK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Both directions refuse deeper nesting, and the parser longer texts. */
#define JSON_MAX_DEPTH 32
#define JSON_MAX_BYTES (1u << 20)

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_value {
	enum json_type type;
	bool boolean;
	double number;
	bool is_integer; /* number had no fraction/exponent and fits int64 */
	int64_t integer;
	char *string; /* JSON_STRING: NUL-terminated, decoded */
	/* JSON_ARRAY / JSON_OBJECT children; keys[i] only for objects */
	struct json_value **items;
	char **keys;
	size_t nr_items;
};

/*
 * Parses exactly one JSON value from text[0..len) (surrounding whitespace
 * allowed). On success returns 0 and *out (free with json_free). On error
 * returns -EINVAL and writes a message naming the position into err.
 * Nesting deeper than 32 and inputs over 1 MiB are refused.
 */
int json_parse(const char *text, size_t len, struct json_value **out,
	       char *err, size_t err_len);
void json_free(struct json_value *v);

/* Member of an object by key, or NULL (also NULL when obj is no object). */
const struct json_value *json_get(const struct json_value *obj,
				  const char *key);

/* Typed getters: 0 on success, -ENOENT if absent, -EINVAL if wrong type. */
int json_get_string(const struct json_value *obj, const char *key,
		    const char **out);
int json_get_u64(const struct json_value *obj, const char *key,
		 uint64_t *out);
int json_get_bool(const struct json_value *obj, const char *key, bool *out);

/*
 * Optional command arguments: an absent key leaves *out as it was and
 * returns 0; a value of the wrong type returns -EINVAL with a message
 * naming the key in err.
 */
int json_opt_u64(const struct json_value *obj, const char *key,
		 uint64_t *out, char *err, size_t err_len);
int json_opt_bool(const struct json_value *obj, const char *key, bool *out,
		  char *err, size_t err_len);

/*
 * The writer builds one JSON text in a growing buffer. `key` is the member
 * name inside an object and must be NULL inside an array or at top level.
 * Errors (out of memory) are sticky and reported by jw_finish().
 */
struct jw {
	char *buf;
	size_t len;
	size_t cap;
	int depth;
	bool need_comma[JSON_MAX_DEPTH + 1];
	int err;
};

void jw_init(struct jw *w);
void jw_free(struct jw *w);
void jw_object_begin(struct jw *w, const char *key);
void jw_object_end(struct jw *w);
void jw_array_begin(struct jw *w, const char *key);
void jw_array_end(struct jw *w);
void jw_string(struct jw *w, const char *key, const char *val);
void jw_u64(struct jw *w, const char *key, uint64_t val);
void jw_i64(struct jw *w, const char *key, int64_t val);
void jw_double(struct jw *w, const char *key, double val);
void jw_bool(struct jw *w, const char *key, bool val);
void jw_null(struct jw *w, const char *key);
/* Inserts an already-valid JSON text as a value. */
void jw_raw(struct jw *w, const char *key, const char *json);
/* Writes a parsed tree (NULL writes null); integers stay exact. */
void jw_value(struct jw *w, const char *key, const struct json_value *v);
/* NUL-terminated text, or NULL on error; the buffer stays owned by w. */
const char *jw_finish(struct jw *w);

#endif
