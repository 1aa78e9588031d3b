/* SPDX-License-Identifier: MIT */
/*
 * Framed migration stream over a connected socket (protocol in proto.h).
 * Errors are sticky: after the first one every call fails with it, and
 * mig_stream_error() names what went wrong ("frame 12 (RAM): CRC mismatch").
 */
#ifndef KVMTRACK_STREAM_H
#define KVMTRACK_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "migrate/stream_deadline.h"
#include "migrate/stream_error.h"
#include "migrate/stream_types.h"

void mig_stream_init(struct mig_stream *s, int fd);
void mig_stream_free(struct mig_stream *s);
/*
 * A frame header's fields (this protocol version) into hdr
 * (MIG_HEADER_BYTES, proto.h); returns the CRC32C of its first 16 bytes,
 * which the frame's CRC continues over the payload and the caller stores
 * at hdr + 16.
 */
uint32_t mig_header_put(uint8_t *hdr, uint16_t type, uint32_t len,
			uint32_t seq);

/* Sends one frame whose payload is the concatenation of iov[0..n). */
int mig_send(struct mig_stream *s, unsigned int type, const struct iovec *iov,
	     int iovcnt);
int mig_send_buf(struct mig_stream *s, unsigned int type, const void *buf,
		 size_t len);
/* The same with the CRC over the first crc_pieces of iov only (RAM). */
int mig_send_crc_over(struct mig_stream *s, unsigned int type,
		      const struct iovec *iov, int iovcnt, int crc_pieces);
/* Sends ERROR with a message, ignoring failures (best effort). */
void mig_send_error(struct mig_stream *s, int err, const char *msg);

/*
 * Receives the next frame's header. For types other than RAM it also
 * reads and checks the payload into s->payload. For RAM the caller reads
 * the payload in place with mig_recv_payload_into() and then calls
 * mig_recv_finish() to check the CRC. A received ERROR frame turns into a
 * failure carrying the peer's message.
 */
int mig_recv(struct mig_stream *s);
int mig_recv_payload_into(struct mig_stream *s, void *dst, size_t len,
			  uint32_t *crc);
/* The same into n <= MIG_RECV_MAX_IOV places, in order; crc may be NULL
 * for bytes the frame's CRC does not cover. */
#define MIG_RECV_MAX_IOV 1024
int mig_recv_payload_iov(struct mig_stream *s, const struct iovec *iov,
			 int n, uint32_t *crc);
/*
 * After a frame read in place was refused part way (a page outside the
 * layout, say), reads the rest of it: when its CRC does not match, the
 * error becomes "CRC mismatch", the true cause, instead of the refusal.
 */
int mig_recv_blame(struct mig_stream *s, size_t consumed, uint32_t crc);
/* The CRC of the pending header, to start an in-place payload's CRC. */
uint32_t mig_recv_crc_begin(const struct mig_stream *s);
int mig_recv_finish(struct mig_stream *s, uint32_t crc);

/* Waits for a frame of type `want`; anything else is an error. */
int mig_expect(struct mig_stream *s, unsigned int want);

#endif
