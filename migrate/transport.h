/* SPDX-License-Identifier: MIT */
/* Migration transports. Only TCP so far: "tcp:HOST:PORT" ([v6] in brackets). */
#ifndef KVMTRACK_TRANSPORT_H
#define KVMTRACK_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

struct mig_uri {
	char host[256];
	char port[16];
};

/* Parses a URI; -EINVAL with a message naming what is wrong. */
int mig_uri_parse(const char *uri, struct mig_uri *out, char *err,
		  size_t err_len);

/*
 * Connects within timeout_ms; the socket gets io_timeout_ms send/receive
 * timeouts, TCP_NODELAY and large buffers. Returns the fd or -errno.
 */
int mig_connect(const struct mig_uri *uri, int timeout_ms, int io_timeout_ms,
		char *err, size_t err_len);
/* A listening socket for the destination; returns the fd or -errno. */
int mig_listen_socket(const struct mig_uri *uri, char *err,
		      size_t err_len);
/*
 * Whether listen_fd is bound to a loopback address (127.0.0.0/8, ::1, or
 * an IPv4-mapped 127/8), which no other host can reach. A wildcard or any
 * other address is not: the stream has no authentication, so the
 * destination warns (incoming.c).
 */
bool mig_listen_is_loopback(int listen_fd);
/*
 * Ends our side after our last words (an ERROR frame, a TLS alert): what
 * the peer sent and we did not read would turn the close into a reset,
 * which can destroy those words before the peer reads them. The caller
 * still closes fd.
 */
void mig_shutdown(int fd);
/* Accepts one connection and sets it up like mig_connect's. */
int mig_accept(int listen_fd, int io_timeout_ms, char *peer, size_t peer_len);

#endif
