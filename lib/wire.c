// SPDX-License-Identifier: MIT
/* Little-endian buffers for the migration stream (see wire.h). */
#include "lib/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void wbuf_init(struct wbuf *w)
{
	memset(w, 0, sizeof(*w));
}

void wbuf_free(struct wbuf *w)
{
	free(w->data);
	wbuf_init(w);
}

void wbuf_reset(struct wbuf *w)
{
	w->len = 0;
	w->err = 0;
}

static uint8_t *wbuf_room(struct wbuf *w, size_t n)
{
	if (w->err)
		return NULL;
	if (w->cap - w->len < n) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *data;

		while (cap - w->len < n)
			cap *= 2;
		data = realloc(w->data, cap);
		if (!data) {
			w->err = -ENOMEM;
			return NULL;
		}
		w->data = data;
		w->cap = cap;
	}
	w->len += n;
	return w->data + w->len - n;
}

void wbuf_put_u8(struct wbuf *w, uint8_t v)
{
	uint8_t *p = wbuf_room(w, 1);

	if (p)
		*p = v;
}

void wbuf_put_u16(struct wbuf *w, uint16_t v)
{
	uint8_t *p = wbuf_room(w, 2);

	if (p)
		put_le16(p, v);
}

void wbuf_put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t *p = wbuf_room(w, 4);

	if (p)
		put_le32(p, v);
}

void wbuf_put_u64(struct wbuf *w, uint64_t v)
{
	uint8_t *p = wbuf_room(w, 8);

	if (p)
		put_le64(p, v);
}

void wbuf_put_bytes(struct wbuf *w, const void *src, size_t len)
{
	uint8_t *p = wbuf_room(w, len);

	if (p && len)
		memcpy(p, src, len);
}

void wbuf_put_str(struct wbuf *w, const char *s)
{
	size_t len = strlen(s);

	wbuf_put_u32(w, (uint32_t)len);
	wbuf_put_bytes(w, s, len);
}

size_t wbuf_begin_len(struct wbuf *w)
{
	wbuf_put_u32(w, 0);
	return w->len;
}

void wbuf_end_len(struct wbuf *w, size_t at)
{
	if (!w->err)
		put_le32(w->data + at - 4, (uint32_t)(w->len - at));
}

void rbuf_init(struct rbuf *r, const void *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->pos = 0;
	r->err = 0;
}

const uint8_t *rbuf_get_ptr(struct rbuf *r, size_t len)
{
	const uint8_t *p;

	if (r->err || r->len - r->pos < len) {
		r->err = -EBADMSG;
		return NULL;
	}
	p = r->data + r->pos;
	r->pos += len;
	return p;
}

uint8_t rbuf_get_u8(struct rbuf *r)
{
	const uint8_t *p = rbuf_get_ptr(r, 1);

	return p ? *p : 0;
}

uint16_t rbuf_get_u16(struct rbuf *r)
{
	const uint8_t *p = rbuf_get_ptr(r, 2);

	return p ? get_le16(p) : 0;
}

uint32_t rbuf_get_u32(struct rbuf *r)
{
	const uint8_t *p = rbuf_get_ptr(r, 4);

	return p ? get_le32(p) : 0;
}

uint64_t rbuf_get_u64(struct rbuf *r)
{
	const uint8_t *p = rbuf_get_ptr(r, 8);

	return p ? get_le64(p) : 0;
}

void rbuf_get_bytes(struct rbuf *r, void *out, size_t len)
{
	const uint8_t *p = rbuf_get_ptr(r, len);

	if (p)
		memcpy(out, p, len);
	else
		memset(out, 0, len);
}

void rbuf_get_str(struct rbuf *r, char *out, size_t out_size)
{
	uint32_t len = rbuf_get_u32(r);
	const uint8_t *p;

	out[0] = '\0';
	if (len >= out_size) {
		r->err = -EBADMSG;
		return;
	}
	p = rbuf_get_ptr(r, len);
	if (!p)
		return;
	memcpy(out, p, len);
	out[len] = '\0';
}

struct rbuf rbuf_get_block(struct rbuf *r)
{
	uint32_t len = rbuf_get_u32(r);
	const uint8_t *p = rbuf_get_ptr(r, len);
	struct rbuf sub;

	rbuf_init(&sub, p, p ? len : 0);
	if (!p)
		sub.err = -EBADMSG;
	return sub;
}
