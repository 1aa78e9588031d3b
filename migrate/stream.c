// SPDX-License-Identifier: MIT
/* The framed migration stream (see stream.h and proto.h). */
#include "migrate/stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/crc32c.h"
#include "lib/wire.h"
#include "migrate/proto.h"
#include "migrate/tls.h"

/* A RAM frame: its page list and its pages, each from guest memory. */
#define MAX_IOV (MIG_RAM_FRAME_PAGES + 1)

void mig_stream_init(struct mig_stream *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
}

void mig_stream_free(struct mig_stream *s)
{
	free(s->payload);
	s->payload = NULL;
	s->payload_cap = 0;
	mig_tls_io_free(s->tls_io);
	s->tls_io = NULL;
}

static int io_error(struct mig_stream *s, const char *what, ssize_t got)
{
	if (got == 0)
		return mig_stream_fail(s, -ECONNRESET,
				       "%s: connection closed by the peer", what);
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return mig_stream_fail(s, -ETIMEDOUT, "%s: timed out", what);
	/* What kernel TLS and GnuTLS say of a record whose tag is wrong. */
	if (s->tls && errno == EBADMSG)
		return mig_stream_fail(s, -EBADMSG,
				       "%s: a TLS record failed its integrity check: altered on the way",
				       what);
	return mig_stream_fail(s, -errno, "%s: %s", what, strerror(errno));
}

/* Moves iov and n past `done` bytes that went out or came in. */
static void iov_advance(struct iovec **iov, int *n, size_t done)
{
	while (*n > 0 && done >= (*iov)->iov_len) {
		done -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n > 0) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + done;
		(*iov)->iov_len -= done;
	}
}

/*
 * One read into iov[0..n) (GnuTLS takes the first piece alone), bounded
 * by the deadlines: what came, or the stream's error. A read the
 * deadline's SO_RCVTIMEO ended, maybe a clock tick early, is armed again
 * until nothing is left.
 */
static ssize_t recv_some(struct mig_stream *s, const struct iovec *iov, int n)
{
	ssize_t got;

	do {
		if (mig_stream_arm(s))
			return s->err;
		got = s->tls_io ? mig_tls_io_recv(s->tls_io, iov->iov_base,
						  iov->iov_len) :
				  readv(s->fd, iov, n);
	} while (got < 0 && (errno == EINTR ||
			     (s->armed_short && errno == EAGAIN)));
	/* A read that timed out as a deadline passed says which. */
	if (got < 0 && errno == EAGAIN) {
		if (mig_stream_arm(s))
			return s->err;
		errno = EAGAIN;
	}
	if (got <= 0)
		return io_error(s, "receive", got);
	if (s->deadline_ms && !s->frame_until_ns)
		s->frame_until_ns = clock_now_ns() + s->deadline_ms * 1000000ull;
	s->bytes_received += (uint64_t)got;
	return got;
}

/* Reads until all of iov[0..n) arrived. */
static int recv_all(struct mig_stream *s, struct iovec *iov, int n)
{
	iov_advance(&iov, &n, 0); /* empty pieces ahead: nothing to read */
	while (n > 0) {
		ssize_t got = recv_some(s, iov, n);

		if (got < 0)
			return (int)got;
		iov_advance(&iov, &n, (size_t)got);
	}
	return 0;
}

static int read_full(struct mig_stream *s, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	return recv_all(s, &iov, len ? 1 : 0);
}

/*
 * sendmsg until everything in iov went out, advancing over partial sends.
 * A send that timed out under the source's switch-over deadline is that
 * deadline passing where it has (the message says so), else the socket's
 * own timeout; either ends the stream (GnuTLS's send could not be taken
 * up again anyway).
 */
static int send_all(struct mig_stream *s, struct iovec *iov, int n)
{
	while (n > 0) {
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t sent;

		if (mig_stream_arm_send(s))
			return s->err;
		sent = s->tls_io ? mig_tls_io_send(s->tls_io, iov, n) :
				   sendmsg(s->fd, &msg, MSG_NOSIGNAL);
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0 && errno == EAGAIN && s->switch_until_ns &&
		    mig_stream_arm_send(s))
			return s->err;
		if (sent <= 0)
			return io_error(s, "send", sent);
		s->bytes_sent += (uint64_t)sent;
		iov_advance(&iov, &n, (size_t)sent);
	}
	return 0;
}

static int recv_frame(struct mig_stream *s);

/*
 * A peer that gives up sends ERROR with its reason and closes, usually
 * while we are still sending: our send then fails with EPIPE or
 * ECONNRESET, but the ERROR frame is already in our receive queue (TCP
 * keeps it readable after a reset). Its reason replaces the bare socket
 * error, so that "frame 9 (RAM): CRC mismatch" reaches the user rather
 * than "Connection reset by peer". Anything else leaves the error as it
 * was. Waits at most PEER_ERROR_WAIT_MS for the frame.
 */
#define PEER_ERROR_WAIT_MS 200
static int pick_up_peer_error(struct mig_stream *s)
{
	struct timeval old, tv = { .tv_usec = PEER_ERROR_WAIT_MS * 1000 };
	socklen_t len = sizeof(old);
	int saved_err = s->err;
	unsigned int io_ms = s->io_ms;
	char saved_msg[sizeof(s->err_msg)];

	if (saved_err != -EPIPE && saved_err != -ECONNRESET)
		return saved_err;
	if (getsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &old, &len) < 0)
		return saved_err;
	memcpy(saved_msg, s->err_msg, sizeof(saved_msg));
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* Under deadlines, the stream's reads arm the short wait too. */
	s->io_ms = s->armed_ms = PEER_ERROR_WAIT_MS;
	s->err = 0;
	if (recv_frame(s) == 0 || s->type != MIG_ERROR ||
	    strncmp(s->err_msg, "peer: ", 6) != 0) {
		s->err = saved_err;
		memcpy(s->err_msg, saved_msg, sizeof(saved_msg));
	}
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &old, sizeof(old));
	s->io_ms = io_ms;
	s->armed_ms = (unsigned int)(old.tv_sec * 1000 + old.tv_usec / 1000);
	return s->err;
}

int mig_send(struct mig_stream *s, unsigned int type, const struct iovec *iov,
	     int iovcnt)
{
	return mig_send_crc_over(s, type, iov, iovcnt, iovcnt);
}

uint32_t mig_header_put(uint8_t *hdr, uint16_t type,
			uint32_t len, uint32_t seq)
{
	put_le32(hdr, MIG_MAGIC);
	put_le16(hdr + 4, MIG_VERSION);
	put_le16(hdr + 6, type);
	put_le32(hdr + 8, len);
	put_le32(hdr + 12, seq);
	return crc32c(0, hdr, 16);
}

int mig_send_crc_over(struct mig_stream *s, unsigned int type,
		      const struct iovec *iov, int iovcnt, int crc_pieces)
{
	struct iovec all[MAX_IOV + 1];
	uint8_t hdr[MIG_HEADER_BYTES];
	size_t len = 0;
	uint32_t crc;

	if (s->err)
		return s->err;
	if (iovcnt > MAX_IOV)
		return mig_stream_fail(s, -EINVAL, "frame with %d pieces", iovcnt);
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len > MIG_MAX_PAYLOAD_BYTES)
		return mig_stream_fail(s, -EMSGSIZE, "%s frame of %zu bytes",
				       mig_frame_name(type), len);
	crc = mig_header_put(hdr, (uint16_t)type, (uint32_t)len,
			     s->send_seq++);
	for (int i = 0; i < crc_pieces; i++)
		crc = crc32c(crc, iov[i].iov_base, iov[i].iov_len);
	put_le32(hdr + 16, crc);
	all[0] = (struct iovec){ .iov_base = hdr, .iov_len = sizeof(hdr) };
	memcpy(all + 1, iov, sizeof(*iov) * (size_t)iovcnt);
	if (send_all(s, all, iovcnt + 1))
		return pick_up_peer_error(s);
	return 0;
}

int mig_send_buf(struct mig_stream *s, unsigned int type, const void *buf,
		 size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return mig_send(s, type, &iov, len ? 1 : 0);
}

void mig_send_error(struct mig_stream *s, int err, const char *msg)
{
	struct wbuf w;
	int saved = s->err;

	wbuf_init(&w);
	wbuf_put_u32(&w, (uint32_t)err);
	wbuf_put_str(&w, msg);
	s->err = 0; /* try even after a local error: the peer should know */
	if (!w.err)
		mig_send_buf(s, MIG_ERROR, w.data, w.len);
	s->err = saved ? saved : s->err;
	wbuf_free(&w);
}

static int check_header(struct mig_stream *s, const uint8_t *hdr)
{
	uint32_t magic = get_le32(hdr), len = get_le32(hdr + 8);
	uint16_t version = get_le16(hdr + 4), type = get_le16(hdr + 6);
	uint32_t seq = get_le32(hdr + 12);

	/* A TLS record: alert (21), handshake (22) or data (23), then the
	 * version's major byte, 3. */
	if (!s->tls && hdr[0] >= 0x15 && hdr[0] <= 0x17 && hdr[1] == 0x03)
		return mig_stream_fail(s, -EPROTO,
				       "the peer speaks TLS: give this end the same --tls-creds or --tls-psk");
	if (magic != MIG_MAGIC)
		return mig_stream_fail(s, -EPROTO,
				       "frame %u: bad magic 0x%08x: not a kvmtrack migration stream",
				       s->recv_seq, magic);
	if (version != MIG_VERSION)
		return mig_stream_fail(s, -EPROTONOSUPPORT,
				       "the peer speaks migration protocol version %u, this kvmtrack speaks %u",
				       version, MIG_VERSION);
	if (!mig_frame_name(type))
		return mig_stream_fail(s, -EPROTO, "frame %u: unknown type %u",
				       s->recv_seq, type);
	if (len > MIG_MAX_PAYLOAD_BYTES)
		return mig_stream_fail(s, -EMSGSIZE,
				       "frame %u (%s): payload of %u bytes, at most %u allowed",
				       s->recv_seq, mig_frame_name(type), len,
				       MIG_MAX_PAYLOAD_BYTES);
	if (seq != s->recv_seq)
		return mig_stream_fail(s, -EPROTO,
				       "frame %u (%s) arrived with sequence number %u",
				       s->recv_seq, mig_frame_name(type), seq);
	s->type = type;
	s->len = len;
	return 0;
}

uint32_t mig_recv_crc_begin(const struct mig_stream *s)
{
	return crc32c(0, s->pending_hdr, 16);
}

int mig_recv_finish(struct mig_stream *s, uint32_t crc)
{
	if (s->err)
		return s->err;
	if (crc != get_le32(s->pending_hdr + 16))
		return mig_stream_fail(s, -EBADMSG,
				       "frame %u (%s): CRC mismatch: corrupted in transit",
				       s->recv_seq, mig_frame_name(s->type));
	s->recv_seq++;
	return 0;
}

int mig_recv_payload_into(struct mig_stream *s, void *dst, size_t len,
			  uint32_t *crc)
{
	int ret = read_full(s, dst, len);

	if (!ret)
		*crc = crc32c(*crc, dst, len);
	return ret;
}

int mig_recv_payload_iov(struct mig_stream *s, const struct iovec *iov,
			 int n, uint32_t *crc)
{
	struct iovec work[MIG_RECV_MAX_IOV];

	if (n > MIG_RECV_MAX_IOV)
		return mig_stream_fail(s, -EINVAL, "frame with %d pieces", n);
	memcpy(work, iov, sizeof(*iov) * (size_t)n);
	if (recv_all(s, work, n))
		return s->err;
	for (int i = 0; crc && i < n; i++)
		*crc = crc32c(*crc, iov[i].iov_base, iov[i].iov_len);
	return 0;
}

int mig_recv_blame(struct mig_stream *s, size_t consumed, uint32_t crc)
{
	uint8_t sink[4096];
	size_t left = s->len - consumed;
	int saved = s->err, ret = 0;
	char msg[sizeof(s->err_msg)];

	memcpy(msg, s->err_msg, sizeof(msg));
	s->err = 0;
	while (left && !ret) {
		size_t n = left < sizeof(sink) ? left : sizeof(sink);

		ret = mig_recv_payload_into(s, sink, n, &crc);
		left -= n;
	}
	ret = ret ?: mig_recv_finish(s, crc);
	if (!ret) {
		/* The frame arrived as sent: the peer's fault stands. */
		s->err = saved;
		memcpy(s->err_msg, msg, sizeof(msg));
	}
	return s->err;
}

/* An ERROR frame from the peer: its message becomes our error. */
static int peer_error(struct mig_stream *s)
{
	struct rbuf r;
	char msg[200];
	int32_t err;

	rbuf_init(&r, s->payload, s->len);
	err = (int32_t)rbuf_get_u32(&r);
	rbuf_get_str(&r, msg, sizeof(msg));
	if (r.err)
		snprintf(msg, sizeof(msg), "(malformed error message)");
	/* Its errno is the peer's word: one outside errno's range (INT_MIN,
	 * whose negation overflows) is taken as a plain abort. */
	return mig_stream_fail(s, err < 0 && err >= -4095 ? err : -ECONNABORTED,
			       "peer: %s", msg);
}

/* mig_recv() without the sticky-error check. */
static int recv_frame(struct mig_stream *s)
{
	uint32_t crc;
	int ret;

	/* A new frame: its deadline starts with its first byte. */
	s->frame_until_ns = 0;
	s->frame_from_bytes = s->bytes_received;
	s->frame_seq = s->recv_seq;
	ret = read_full(s, s->pending_hdr, MIG_HEADER_BYTES);
	ret = ret ?: check_header(s, s->pending_hdr);
	/* RAM pages are read straight into guest memory by ram_recv.c. */
	if (ret || s->type == MIG_RAM || s->type == MIG_RAM_LIVE)
		return ret;
	if (s->payload_cap < s->len) {
		free(s->payload);
		s->payload = malloc(s->len);
		s->payload_cap = s->payload ? s->len : 0;
		if (!s->payload)
			return mig_stream_fail(s, -ENOMEM, "out of memory");
	}
	crc = mig_recv_crc_begin(s);
	ret = mig_recv_payload_into(s, s->payload, s->len, &crc);
	ret = ret ?: mig_recv_finish(s, crc);
	if (!ret && s->type == MIG_ERROR)
		return peer_error(s);
	return ret;
}

int mig_recv(struct mig_stream *s)
{
	if (s->err)
		return s->err;
	return recv_frame(s);
}

int mig_expect(struct mig_stream *s, unsigned int want)
{
	int ret = mig_recv(s);

	if (ret)
		return ret;
	if (s->type != want)
		return mig_stream_fail(s, -EPROTO, "expected %s, got %s",
				       mig_frame_name(want),
				       mig_frame_name(s->type));
	return 0;
}
