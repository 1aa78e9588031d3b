/* SPDX-License-Identifier: MIT */
/*
 * What the JSON parser (json_parse.c), the tree (json_value.c) and the
 * writer (json_write.c) share; not for use outside vmm/json_*.c.
 */
#ifndef KVMTRACK_JSON_INTERNAL_H
#define KVMTRACK_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/json/json.h"

/* Both directions refuse deeper nesting; jw.need_comma has one more slot. */
#define JSON_MAX_DEPTH 32
#define JSON_MAX_BYTES (1u << 20)

/*
 * Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid: overlong
 * forms, surrogates and code points above U+10FFFF are refused.
 */
size_t json_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Writes cp (at most U+10FFFF) as 1 to 4 bytes to out; returns how many. */
size_t json_utf8_encode(uint32_t cp, char *out);

/* A zeroed value of the given type, or NULL when out of memory. */
struct json_value *json_value_new(enum json_type type);

/*
 * Appends v (and for an object its key) to parent's children; on success
 * the parent owns both. 0 or -ENOMEM (then the caller still owns them).
 */
int json_value_append(struct json_value *parent, char *key,
		      struct json_value *v);

#endif
