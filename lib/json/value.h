/* SPDX-License-Identifier: MIT */
/*
 * Building the parsed tree: what the parser needs from value.c beyond the
 * public lookups and json_free() in json.h.
 */
#ifndef KVMTRACK_JSON_VALUE_H
#define KVMTRACK_JSON_VALUE_H

#include "lib/json/json.h"

/* A zeroed value of the given type, or NULL when out of memory. */
struct json_value *json_value_new(enum json_type type);

/*
 * Appends v (and for an object its key) to parent's children; on success
 * the parent owns both. 0 or -ENOMEM (then the caller still owns them).
 */
int json_value_append(struct json_value *parent, char *key,
		      struct json_value *v);

#endif
