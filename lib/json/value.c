// SPDX-License-Identifier: MIT
/*
 * The parsed JSON tree (see json.h): building it, freeing it and reading
 * members of objects with typed getters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json/value.h"

struct json_value *json_value_new(enum json_type type)
{
	struct json_value *v = calloc(1, sizeof(*v));

	if (v)
		v->type = type;
	return v;
}

int json_value_append(struct json_value *parent, char *key,
		      struct json_value *v)
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

/* The member key of obj if it has the given type: 0, -ENOENT or -EINVAL. */
static int get_typed(const struct json_value *obj, const char *key,
		     enum json_type type, const struct json_value **out)
{
	const struct json_value *v = json_get(obj, key);

	if (!v)
		return -ENOENT;
	if (v->type != type)
		return -EINVAL;
	*out = v;
	return 0;
}

int json_get_string(const struct json_value *obj, const char *key,
		    const char **out)
{
	const struct json_value *v;
	int ret = get_typed(obj, key, JSON_STRING, &v);

	if (!ret)
		*out = v->string;
	return ret;
}

/* See set_integer() in json_parse.c for integers above INT64_MAX. */
int json_get_u64(const struct json_value *obj, const char *key,
		 uint64_t *out)
{
	const struct json_value *v;
	int ret = get_typed(obj, key, JSON_NUMBER, &v);

	if (ret)
		return ret;
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

int json_opt_u64(const struct json_value *obj, const char *key,
		 uint64_t *out, char *err, size_t err_len)
{
	int ret = json_get_u64(obj, key, out);

	if (ret == -ENOENT)
		return 0;
	if (ret)
		snprintf(err, err_len, "'%s' must be a non-negative integer",
			 key);
	return ret;
}

int json_opt_bool(const struct json_value *obj, const char *key, bool *out,
		  char *err, size_t err_len)
{
	int ret = json_get_bool(obj, key, out);

	if (ret == -ENOENT)
		return 0;
	if (ret)
		snprintf(err, err_len, "'%s' must be true or false", key);
	return ret;
}

int json_get_bool(const struct json_value *obj, const char *key, bool *out)
{
	const struct json_value *v;
	int ret = get_typed(obj, key, JSON_BOOL, &v);

	if (!ret)
		*out = v->boolean;
	return ret;
}
