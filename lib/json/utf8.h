/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 as JSON strings need it: the parser decodes \u escapes into it and
 * validates raw bytes, the writer passes valid sequences through.
 */
#ifndef KVMTRACK_JSON_UTF8_H
#define KVMTRACK_JSON_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid: overlong
 * forms, surrogates and code points above U+10FFFF are refused.
 */
size_t json_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Writes cp (at most U+10FFFF) as 1 to 4 bytes to out; returns how many. */
size_t json_utf8_encode(uint32_t cp, char *out);

#endif
