// SPDX-License-Identifier: MIT
/*
 * One TLS connection of the migration channel (see tls.h): the handshake,
 * then the record keys handed to the kernel, or GnuTLS's records here.
 */
#include <errno.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "lib/clock.h"
#include "lib/le.h"
#include "migrate/proto.h"
#include "migrate/tls_types.h"
#include "migrate/transport.h"

/*
 * TLS 1.3 only. AES-GCM first: the kernel's TLS has it wherever AES-NI
 * is (ChaCha20 needs modules few hosts load). With a pre-shared key, only
 * its (EC)DHE modes: a key that leaks later must not open the migrations
 * it protected.
 */
#define PRIORITY_X509 \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305"
#define PRIORITY_PSK PRIORITY_X509 ":+ECDHE-PSK:+DHE-PSK"

/*
 * When the read in progress in this thread must end (CLOCK_MONOTONIC ns,
 * 0: no bound), from the socket's SO_RCVTIMEO as the caller set it, so
 * that GnuTLS's whole read waits at most that, as one recv() would. GnuTLS
 * reads a record or a handshake message in as many recv() calls as its
 * bytes take to come, each bounded by SO_RCVTIMEO alone, and its own
 * timeouts start their clock after each wait: a peer trickling a byte at
 * a time would hold it for ever. The destination shortens SO_RCVTIMEO to
 * what its deadlines leave (stream.h).
 */
static void bound_reads(struct mig_tls_io *io)
{
	int fd = io->fd;
	struct timeval tv;
	socklen_t len = sizeof(tv);
	uint64_t ms = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0)
		ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	io->pull_until_ns = ms ? clock_now_ns() + ms * 1000000 : 0;
}

static ssize_t pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	struct mig_tls_io *io = ptr;
	struct pollfd p = { .fd = io->fd, .events = POLLIN };
	uint64_t now = clock_now_ns();
	ssize_t got;

	if (io->pull_until_ns) {
		/* Rounded up: a wait ends at the bound, not before it. */
		int ready = poll(&p, 1, now < io->pull_until_ns ?
			(int)((io->pull_until_ns - now + 999999) / 1000000) : 0);

		if (ready <= 0) {
			if (!ready)
				errno = EAGAIN;
			return -1;
		}
	}
	got = recv(io->fd, buf, len, 0);
	for (ssize_t i = 0; i < got && io->first_len < sizeof(io->first); i++)
		io->first[io->first_len++] = ((uint8_t *)buf)[i];
	return got;
}

static int pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct mig_tls_io *io = ptr;
	struct pollfd p = { .fd = io->fd, .events = POLLIN };

	return poll(&p, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

static ssize_t push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int n)
{
	struct mig_tls_io *io = ptr;
	struct msghdr msg = { .msg_iov = (struct iovec *)iov,
			      .msg_iovlen = (size_t)n };

	return sendmsg(io->fd, &msg, MSG_NOSIGNAL);
}

union ktls_info {
	struct tls_crypto_info info;
	struct tls12_crypto_info_aes_gcm_128 aes128;
	struct tls12_crypto_info_aes_gcm_256 aes256;
	struct tls12_crypto_info_chacha20_poly1305 chacha;
};

/* AES-GCM's kernel form: TLS 1.3's 12-byte IV is its 4-byte salt and
 * 8-byte IV. */
static void put_gcm(uint8_t *salt, uint8_t *iv, uint8_t *key, size_t key_len,
		    uint8_t *rec_seq, const gnutls_datum_t *tls_iv,
		    const gnutls_datum_t *tls_key, const unsigned char *seq)
{
	memcpy(salt, tls_iv->data, 4);
	memcpy(iv, tls_iv->data + 4, 8);
	memcpy(key, tls_key->data, key_len);
	memcpy(rec_seq, seq, 8);
}

/*
 * The kernel's form of one direction's keys (ChaCha20 takes the whole IV);
 * the record sequence goes on from the handshake's.
 */
static int ktls_info(gnutls_session_t s, int read, union ktls_info *u,
		     size_t *size)
{
	gnutls_datum_t mac, iv, key;
	unsigned char seq[8];

	if (gnutls_record_get_state(s, (unsigned int)read, &mac, &iv, &key,
				    seq) < 0 || iv.size != 12)
		return -EINVAL;
	memset(u, 0, sizeof(*u));
	u->info.version = TLS_1_3_VERSION;
	switch (gnutls_cipher_get(s)) {
	case GNUTLS_CIPHER_AES_128_GCM:
		u->info.cipher_type = TLS_CIPHER_AES_GCM_128;
		put_gcm(u->aes128.salt, u->aes128.iv, u->aes128.key,
			sizeof(u->aes128.key), u->aes128.rec_seq, &iv, &key, seq);
		*size = sizeof(u->aes128);
		break;
	case GNUTLS_CIPHER_AES_256_GCM:
		u->info.cipher_type = TLS_CIPHER_AES_GCM_256;
		put_gcm(u->aes256.salt, u->aes256.iv, u->aes256.key,
			sizeof(u->aes256.key), u->aes256.rec_seq, &iv, &key, seq);
		*size = sizeof(u->aes256);
		break;
	case GNUTLS_CIPHER_CHACHA20_POLY1305:
		u->info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
		memcpy(u->chacha.iv, iv.data, 12);
		memcpy(u->chacha.key, key.data, sizeof(u->chacha.key));
		memcpy(u->chacha.rec_seq, seq, 8);
		*size = sizeof(u->chacha);
		break;
	default:
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * Hands both directions to the kernel. Fails with nothing changed where
 * the kernel has no TLS, or not this cipher (the socket with the ULP on
 * and no keys passes bytes through as before), or data GnuTLS already
 * read waits in its buffer; a failure between the two directions leaves
 * the socket unusable (-EIO).
 */
static int ktls_start(struct mig_tls_io *io)
{
	union ktls_info rx, tx;
	size_t rx_size, tx_size;
	int ret;

	if (getenv("KVMTRACK_X_TLS_USERSPACE"))
		return -ECANCELED;
	if (gnutls_record_check_pending(io->session))
		return -EAGAIN;
	ret = ktls_info(io->session, 1, &rx, &rx_size);
	ret = ret ?: ktls_info(io->session, 0, &tx, &tx_size);
	if (ret)
		return ret;
	if (setsockopt(io->fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) ||
	    setsockopt(io->fd, SOL_TLS, TLS_RX, &rx, (socklen_t)rx_size))
		ret = -errno;
	else if (setsockopt(io->fd, SOL_TLS, TLS_TX, &tx, (socklen_t)tx_size))
		ret = -EIO;
	explicit_bzero(&rx, sizeof(rx));
	explicit_bzero(&tx, sizeof(tx));
	return ret;
}

/*
 * Why the handshake failed, as the person at this end needs to hear it;
 * -EPROTO where the peer runs without TLS, -ETIMEDOUT where it did not
 * finish in time, else -EACCES.
 */
static int explain(struct mig_tls_io *io, int ret, char *err, size_t err_len)
{
	const char *peer = io->host ? "destination" : "source";

	if (io->first_len == 4 && get_le32(io->first) == MIG_MAGIC) {
		snprintf(err, err_len,
			 "the %s sent a plain kvmtrack stream: it runs without --tls-creds or --tls-psk",
			 peer);
		return -EPROTO;
	}
	if (io->why[0]) {
		snprintf(err, err_len, "%s", io->why);
		return -EACCES;
	}
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_TIMEDOUT) {
		snprintf(err, err_len, "the %s did not answer in time", peer);
		return -ETIMEDOUT;
	}
	if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
		snprintf(err, err_len, "the %s refused: %s", peer,
			 gnutls_alert_get_name(gnutls_alert_get(io->session)));
	else if (ret == GNUTLS_E_CERTIFICATE_REQUIRED)
		/* A client offers only a certificate of a CA the server
		 * named: one of another CA looks like none. */
		snprintf(err, err_len,
			 "the source showed no certificate signed by the CA in ca-cert.pem");
	else
		snprintf(err, err_len, "%s", gnutls_strerror(ret));
	/* A wrong key shows as a bad parameter or a failed decryption,
	 * depending on the step: name the likely cause. */
	if (!io->t->x509 && (ret == GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER ||
			     ret == GNUTLS_E_DECRYPTION_FAILED ||
			     ret == GNUTLS_E_FATAL_ALERT_RECEIVED))
		snprintf(err + strlen(err), err_len - strlen(err),
			 " (do both ends hold the same key for the source's identity?)");
	return -EACCES;
}

static int session_init(struct mig_tls_io *io)
{
	const struct mig_tls *t = io->t;
	unsigned int flags = GNUTLS_NO_TICKETS | GNUTLS_NO_SIGNAL;
	gnutls_session_t s;
	int ret = gnutls_init(&io->session, flags | (t->server ? GNUTLS_SERVER :
								   GNUTLS_CLIENT));

	if (ret < 0)
		return ret;
	s = io->session;
	gnutls_session_set_ptr(s, io);
	gnutls_transport_set_ptr(s, io);
	gnutls_transport_set_pull_function(s, pull);
	gnutls_transport_set_pull_timeout_function(s, pull_timeout);
	gnutls_transport_set_vec_push_function(s, push);
	ret = gnutls_priority_set_direct(s, t->x509 ? PRIORITY_X509 : PRIORITY_PSK,
					 NULL);
	if (t->x509) {
		ret = ret ?: gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE,
						    t->x509);
		if (t->server)
			gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
	} else {
		ret = ret ?: gnutls_credentials_set(s, GNUTLS_CRD_PSK,
						    t->server ? (void *)t->psk_server :
								(void *)t->psk_client);
	}
	return ret;
}

/*
 * TLS 1.3 lets a client finish its handshake before the server has
 * checked the client's certificate or key: a source would send its first
 * frames into a refusal it could only guess at. So the destination says
 * yes with one record, and the source waits for it: a refusal reaches it
 * as the destination's alert, before any frame.
 */
#define ACCEPTED_BYTE 0x4b

static int confirm(struct mig_tls_io *io)
{
	uint8_t b = ACCEPTED_BYTE;
	ssize_t ret;

	if (io->t->server)
		ret = gnutls_record_send(io->session, &b, 1);
	else
		do
			ret = gnutls_record_recv(io->session, &b, 1);
		while (ret == GNUTLS_E_INTERRUPTED);
	if (ret == 1 && b == ACCEPTED_BYTE)
		return 0;
	return ret < 0 ? (int)ret : GNUTLS_E_UNEXPECTED_PACKET;
}

/* The session in one line; where the kernel does not carry the records,
 * why not: a user wants to know. */
static void describe(const struct mig_tls_io *io, int ktls, char *out,
		     size_t len)
{
	int n = snprintf(out, len, "TLS 1.3, %s, %s, records by ",
			 gnutls_cipher_get_name(gnutls_cipher_get(io->session)),
			 mig_tls_kind(io->t));

	if (n < 0 || (size_t)n >= len)
		return;
	if (!ktls)
		snprintf(out + n, len - (size_t)n, "the kernel");
	else
		snprintf(out + n, len - (size_t)n, "GnuTLS (kernel TLS: %s)",
			 ktls == -ECANCELED ? "off" : strerror(-ktls));
}

static int fail(struct mig_tls_io *io, int ret, char *err, size_t err_len)
{
	int why = explain(io, ret, err, err_len);

	/* GnuTLS leaves telling the peer to us: without an alert it would
	 * only see the connection end. A peer without TLS gets a plain
	 * ERROR from the caller instead. */
	if (why != -EPROTO) {
		gnutls_alert_send_appropriate(io->session, ret);
		mig_shutdown(io->fd);
	}
	mig_tls_io_free(io);
	return why;
}

int mig_tls_handshake(const struct mig_tls *t, int fd, const char *host,
		      struct mig_tls_io **io_out, char *err, size_t err_len)
{
	struct mig_tls_io *io = calloc(1, sizeof(*io));
	int ret;

	*io_out = NULL;
	if (!io)
		return -ENOMEM;
	io->t = t;
	io->fd = fd;
	io->host = t->server ? NULL : t->names[0] ? t->names : host;
	ret = session_init(io);
	if (ret < 0) {
		snprintf(err, err_len, "TLS: %s", gnutls_strerror(ret));
		mig_tls_io_free(io);
		return -EINVAL;
	}
	bound_reads(io); /* the handshake and the yes, in all */
	do
		ret = gnutls_handshake(io->session);
	while (ret == GNUTLS_E_INTERRUPTED || ret == GNUTLS_E_WARNING_ALERT_RECEIVED);
	ret = ret ?: confirm(io);
	io->pull_until_ns = 0;
	if (ret < 0)
		return fail(io, ret, err, err_len);
	ret = ktls_start(io);
	describe(io, ret, err, err_len);
	if (ret == -EIO) {
		snprintf(err, err_len, "kernel TLS refused the session's keys");
		mig_tls_io_free(io);
		return ret;
	}
	if (ret == 0) {
		mig_tls_io_free(io);
		io = NULL;
	}
	*io_out = io;
	return 0;
}

/* GnuTLS's failures as the socket's would be. */
static ssize_t as_errno(ssize_t ret)
{
	if (ret >= 0)
		return ret;
	if (ret == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;
	errno = ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_TIMEDOUT ? EAGAIN :
		ret == GNUTLS_E_INTERRUPTED ? EINTR :
		ret == GNUTLS_E_DECRYPTION_FAILED ? EBADMSG :
		ret == GNUTLS_E_PUSH_ERROR ? EPIPE : EIO;
	return -1;
}

static int flush_record(struct mig_tls_io *io)
{
	size_t done = 0;

	while (done < io->out_len) {
		ssize_t ret = gnutls_record_send(io->session, io->out + done,
						 io->out_len - done);

		if (ret == GNUTLS_E_INTERRUPTED)
			continue;
		if (ret < 0)
			return (int)as_errno(ret);
		done += (size_t)ret;
	}
	io->out_len = 0;
	return 0;
}

/*
 * Full records: one each for a frame header and every 4 KiB page would
 * cost a record's header, tag and syscall each. The pieces are copied into
 * one record-sized buffer, which stays in cache; GnuTLS's own gathering
 * (corking) copies the whole frame into a growing buffer first, slower.
 */
ssize_t mig_tls_io_send(struct mig_tls_io *io, const struct iovec *iov, int n)
{
	ssize_t total = 0;

	for (int i = 0; i < n; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		while (left) {
			size_t take = sizeof(io->out) - io->out_len;

			take = take < left ? take : left;
			memcpy(io->out + io->out_len, p, take);
			io->out_len += take;
			p += take;
			left -= take;
			if (io->out_len == sizeof(io->out) && flush_record(io))
				return -1;
		}
		total += (ssize_t)iov[i].iov_len;
	}
	return flush_record(io) ? -1 : total;
}

ssize_t mig_tls_io_recv(struct mig_tls_io *io, void *buf, size_t len)
{
	ssize_t ret;

	/* Nothing to wait for where a record's bytes are already here. */
	if (!gnutls_record_check_pending(io->session))
		bound_reads(io);
	ret = as_errno(gnutls_record_recv(io->session, buf, len));
	io->pull_until_ns = 0;
	return ret;
}

void mig_tls_io_free(struct mig_tls_io *io)
{
	if (!io)
		return;
	if (io->session)
		gnutls_deinit(io->session);
	free(io);
}
