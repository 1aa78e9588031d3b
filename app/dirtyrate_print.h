/* SPDX-License-Identifier: MIT */
/*
 * Presenting a "calc-dirty-rate" reply (the JSON object of dirtyrate.h's
 * measurement) for `kvmtrack dirtyrate`: tables, JSON, a JSON file and an
 * SVG plot of the working-set curve. Each returns 0 or -errno, having
 * printed a message naming the file on failure.
 */
#ifndef KVMTRACK_DIRTYRATE_PRINT_H
#define KVMTRACK_DIRTYRATE_PRINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json_value;

/* "10 ms", "1 s", "1.5 s". */
void dirtyrate_format_ms(double ms, char *buf, size_t len);

int dirtyrate_print_tables(FILE *f, const char *socket_path,
			   const struct json_value *result);
int dirtyrate_print_json(FILE *f, const struct json_value *result);
int dirtyrate_write_json_file(const char *path,
			      const struct json_value *result);
/* The result must have a "wss" array. */
int dirtyrate_write_svg(const char *path, const char *socket_path,
			const struct json_value *result);

#endif
