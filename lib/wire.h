/* SPDX-License-Identifier: MIT */
/*
 * Little-endian encoding for the migration stream. A wbuf grows as values
 * are put; an rbuf reads from a bounded buffer. Both have a sticky error:
 * callers put or get a whole section and check once at the end, and a
 * short or malformed input can never read past its end.
 */
#ifndef KVMTRACK_WIRE_H
#define KVMTRACK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/le.h"

struct wbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err; /* 0 or -ENOMEM */
};

void wbuf_init(struct wbuf *w);
void wbuf_free(struct wbuf *w);
void wbuf_reset(struct wbuf *w);
void wbuf_put_u8(struct wbuf *w, uint8_t v);
void wbuf_put_u16(struct wbuf *w, uint16_t v);
void wbuf_put_u32(struct wbuf *w, uint32_t v);
void wbuf_put_u64(struct wbuf *w, uint64_t v);
void wbuf_put_bytes(struct wbuf *w, const void *p, size_t len);
/* u32 length, then the bytes (no NUL). */
void wbuf_put_str(struct wbuf *w, const char *s);
/* A u32 length placeholder to be filled by wbuf_end_len(). */
size_t wbuf_begin_len(struct wbuf *w);
void wbuf_end_len(struct wbuf *w, size_t at);

struct rbuf {
	const uint8_t *data;
	size_t len;
	size_t pos;
	int err; /* 0 or -EBADMSG once anything was out of bounds */
};

void rbuf_init(struct rbuf *r, const void *data, size_t len);
uint8_t rbuf_get_u8(struct rbuf *r);
uint16_t rbuf_get_u16(struct rbuf *r);
uint32_t rbuf_get_u32(struct rbuf *r);
uint64_t rbuf_get_u64(struct rbuf *r);
void rbuf_get_bytes(struct rbuf *r, void *out, size_t len);
/* Pointer to len bytes inside the buffer (NULL and error if short). */
const uint8_t *rbuf_get_ptr(struct rbuf *r, size_t len);
/* A string of at most max_len bytes into out (NUL-terminated). */
void rbuf_get_str(struct rbuf *r, char *out, size_t out_size);
/* A sub-reader over a u32-length-prefixed block. */
struct rbuf rbuf_get_block(struct rbuf *r);
static inline size_t rbuf_left(const struct rbuf *r)
{
	return r->err ? 0 : r->len - r->pos;
}

#endif
