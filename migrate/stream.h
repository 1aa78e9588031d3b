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

struct mig_tls_io;

struct mig_stream {
	int fd;
	/* TLS (tls.h): records by GnuTLS in this process, else NULL (none,
	 * or the kernel's, on fd); tls: whether either carries the stream. */
	struct mig_tls_io *tls_io;
	bool tls;
	uint32_t send_seq;
	uint32_t recv_seq;
	uint64_t bytes_sent;
	uint64_t bytes_received;
	int err;
	char err_msg[256];
	/* Received frame: header fields and payload (owned buffer). */
	uint16_t type;
	uint32_t len;
	uint8_t *payload;
	size_t payload_cap;
	/* The header of a frame whose payload is read in place (RAM). */
	uint8_t pending_hdr[20];
	/*
	 * Deadlines (mig_stream_deadlines()), CLOCK_MONOTONIC ns, 0 where
	 * none runs: the opening's, and the frame's from its first byte,
	 * which came after frame_from_bytes of the stream; its number (a
	 * RAM frame's is counted before its pages come).
	 */
	unsigned int deadline_ms;
	uint32_t frame_seq;
	uint64_t open_until_ns;
	uint64_t frame_until_ns;
	uint64_t frame_from_bytes;
	/* SO_RCVTIMEO: as the transport set it (the wait for a frame's
	 * first byte), and as it is now; whether a deadline shortened it. */
	unsigned int io_ms;
	unsigned int armed_ms;
	bool armed_short;
};

void mig_stream_init(struct mig_stream *s, int fd);
void mig_stream_free(struct mig_stream *s);
int mig_stream_fail(struct mig_stream *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline const char *mig_stream_error(const struct mig_stream *s)
{
	return s->err_msg;
}

/*
 * Deadlines for a receiver that cannot trust its peer (the destination):
 * the opening, from now until mig_stream_opened(), and then each frame,
 * from its first byte to its last, must come whole within ms however its
 * bytes trickle in, where the socket's receive timeout alone bounds each
 * read but not their sum. One mechanism for both: before each read the
 * socket's SO_RCVTIMEO (as the transport set it, read here) is shortened
 * to what the nearer deadline leaves, and a read that ends at it fails the
 * stream with what had come: "the peer took more than 10 s to open the
 * migration (4 bytes in: ...)", "a frame came too slowly: 122 of frame 2
 * (RAM)'s 4140 bytes in the 10 s since its first byte". fd must be a socket.
 */
void mig_stream_deadlines(struct mig_stream *s, unsigned int ms);
/* The opening is over (CONFIG accepted): frames' deadlines only. */
void mig_stream_opened(struct mig_stream *s);
/*
 * Shortens the socket's SO_RCVTIMEO to what the deadlines leave, for a
 * reader of the socket other than this stream (the TLS handshake, whose
 * whole wait SO_RCVTIMEO bounds); the stream's own reads do it each time.
 * -ETIMEDOUT with the stream's error set where nothing is left.
 */
int mig_stream_arm(struct mig_stream *s);
/* The words the stream fails with when the opening's deadline passes,
 * with the deadline in seconds. */
#define MIG_OPENING_TOO_SLOW "the peer took more than %u s to open the migration"
/*
 * The SO_RCVTIMEO to set at now_ns, in ms, for a deadline at until_ns (0:
 * none) under the socket's own io_ms (0: none): the smaller, rounded
 * down; -ETIMEDOUT once less than 1 ms is left, since 0 would wait for
 * ever. A read that returns early is simply armed again.
 */
long mig_deadline_arm_ms(uint64_t now_ns, uint64_t until_ns,
			 unsigned int io_ms);

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
