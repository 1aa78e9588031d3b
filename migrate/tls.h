/* SPDX-License-Identifier: MIT */
/*
 * TLS 1.3 on the migration connection, mutually authenticated, in QEMU's
 * two flavours: x509 credentials in QEMU's directory layout (--tls-creds)
 * or a pre-shared key in QEMU's keys.psk format (--tls-psk).
 *
 * GnuTLS does the handshake; then, where the kernel has TLS (the "tls"
 * module), the record keys go to the socket (kTLS) and the stream keeps
 * reading and writing the plain fd, with the kernel encrypting in place.
 * Elsewhere GnuTLS carries the records in this process (stream.c asks
 * mig_tls_io_* for each read and write). The handshake is finished before
 * the first frame: a peer without the right credentials never gets to
 * send one.
 */
#ifndef KVMTRACK_TLS_H
#define KVMTRACK_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#define MIG_TLS_PATH_MAX 512

/* What one end was given; all empty: no TLS. */
struct mig_tls_opts {
	char creds[MIG_TLS_PATH_MAX]; /* x509 directory (QEMU's layout) */
	char psk[MIG_TLS_PATH_MAX];   /* keys.psk: lines identity:hexkey */
	/*
	 * x509 only. The source: the name the destination's certificate
	 * must carry (default: the URI's host). The destination: the names
	 * (comma-separated, each a host name or a whole DN) a source's
	 * certificate must carry one of (default: any the CA signed).
	 */
	char names[MIG_TLS_PATH_MAX];
};

/*
 * Fills o from the options as given (each may be NULL); refuses both
 * kinds at once, names without x509, and paths that do not fit. Relative
 * paths are made absolute: a control command's paths are opened by
 * another process, in another directory.
 */
int mig_tls_opts_set(struct mig_tls_opts *o, const char *creds,
		     const char *psk, const char *const *names,
		     unsigned int nr_names, char *err, size_t err_len);
static inline bool mig_tls_wanted(const struct mig_tls_opts *o)
{
	return o->creds[0] || o->psk[0];
}

/* Credentials, loaded once and checked before any peer is involved. */
struct mig_tls;
int mig_tls_load(const struct mig_tls_opts *o, bool server,
		 struct mig_tls **out, char *err, size_t err_len);
void mig_tls_free(struct mig_tls *t);
/* "x509" or "psk", for the log. */
const char *mig_tls_kind(const struct mig_tls *t);

/*
 * The handshake on a connected socket: its SO_RCVTIMEO bounds the whole
 * handshake and the destination's "yes", not each wait.
 * host: the source's destination host, the default name to verify; NULL
 * on the destination. On success *io is NULL when the kernel took the
 * records over, else the session stream.c carries them through; how it
 * went is in err as one line either way ("TLS 1.3, AES-128-GCM, x509,
 * kernel TLS").
 */
struct mig_tls_io;
/* Fails with -EPROTO where the peer sent a plain kvmtrack frame (it runs
 * without TLS), -EACCES where it was refused or refused us, -ETIMEDOUT
 * where it did not end in time. */
int mig_tls_handshake(const struct mig_tls *t, int fd, const char *host,
		      struct mig_tls_io **io, char *err, size_t err_len);

/* Records in this process, as sendmsg/readv would behave on the socket:
 * -1 and errno on failure (EAGAIN: timed out, a record read bounded in
 * all by SO_RCVTIMEO; EBADMSG: a record failed its integrity check), 0
 * from recv at the peer's end. */
ssize_t mig_tls_io_send(struct mig_tls_io *io, const struct iovec *iov,
			int n);
ssize_t mig_tls_io_recv(struct mig_tls_io *io, void *buf, size_t len);
void mig_tls_io_free(struct mig_tls_io *io);

#endif
