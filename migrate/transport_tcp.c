// SPDX-License-Identifier: MIT
/* TCP transport for migration (see transport.h). */
#include "migrate/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Big enough to keep a 10 Gbit/s link with a few ms of RTT busy. */
#define SOCKET_BUFFER_BYTES (8 << 20)

int mig_uri_parse(const char *uri, struct mig_uri *out, char *err,
		  size_t err_len)
{
	const char *rest, *colon;
	size_t host_len;

	if (strncmp(uri, "tcp:", 4) != 0) {
		snprintf(err, err_len,
			 "'%s': unsupported transport (expected tcp:HOST:PORT)",
			 uri);
		return -EINVAL;
	}
	rest = uri + 4;
	if (*rest == '[') { /* [v6 address]:port */
		const char *close = strchr(rest, ']');

		colon = close && close[1] == ':' ? close + 1 : NULL;
		rest++;
		host_len = close ? (size_t)(close - rest) : 0;
	} else {
		colon = strrchr(rest, ':');
		host_len = colon ? (size_t)(colon - rest) : 0;
	}
	if (!colon || host_len == 0 || host_len >= sizeof(out->host) ||
	    !colon[1] || strlen(colon + 1) >= sizeof(out->port) ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
		snprintf(err, err_len, "'%s': expected tcp:HOST:PORT", uri);
		return -EINVAL;
	}
	memcpy(out->host, rest, host_len);
	out->host[host_len] = '\0';
	snprintf(out->port, sizeof(out->port), "%s", colon + 1);
	return 0;
}

static void tune_socket(int fd, int io_timeout_ms)
{
	struct timeval tv = { .tv_sec = io_timeout_ms / 1000,
			      .tv_usec = (io_timeout_ms % 1000) * 1000 };
	int one = 1, buf = SOCKET_BUFFER_BYTES;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int resolve(const struct mig_uri *uri, bool passive,
		   struct addrinfo **res, char *err, size_t err_len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = passive ? AI_PASSIVE : 0 };
	int rc = getaddrinfo(uri->host, uri->port, &hints, res);

	if (rc) {
		snprintf(err, err_len, "%s:%s: %s", uri->host, uri->port,
			 gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	return 0;
}

/* Non-blocking connect bounded by timeout_ms. */
static int connect_timeout(int fd, const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	return -soerr;
}

int mig_connect(const struct mig_uri *uri, int timeout_ms, int io_timeout_ms,
		char *err, size_t err_len)
{
	struct addrinfo *res;
	int fd = -1, ret = resolve(uri, false, &res, err, err_len);

	if (ret)
		return ret;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		ret = connect_timeout(fd, ai, timeout_ms);
		if (ret == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, err_len, "connect to %s:%s: %s", uri->host,
			 uri->port, strerror(-ret));
		return ret;
	}
	/* Blocking from here on, bounded by the socket timeouts. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	tune_socket(fd, io_timeout_ms);
	return fd;
}

int mig_listen_socket(const struct mig_uri *uri, char *err, size_t err_len)
{
	struct addrinfo *res;
	int fd = -1, one = 1, ret = resolve(uri, true, &res, err, err_len);

	if (ret)
		return ret;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 4) == 0)
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, err_len, "listen on %s:%s: %s", uri->host,
			 uri->port, strerror(-ret));
	return fd < 0 ? ret : fd;
}

bool mig_listen_is_loopback(int listen_fd)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&addr;
	const struct sockaddr_in *in = (const struct sockaddr_in *)&addr;

	if (getsockname(listen_fd, (struct sockaddr *)&addr, &len))
		return false;
	if (addr.ss_family == AF_INET)
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	if (addr.ss_family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
	       in6->sin6_addr.s6_addr[12] == 127;
}

int mig_accept(int listen_fd, int io_timeout_ms, char *peer, size_t peer_len)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
	int fd;

	do {
		fd = accept4(listen_fd, (struct sockaddr *)&addr, &len,
			     SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	getnameinfo((struct sockaddr *)&addr, len, host, sizeof(host), port,
		    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(peer, peer_len, "%s:%s", host, port);
	tune_socket(fd, io_timeout_ms);
	return fd;
}

void mig_shutdown(int fd)
{
	char buf[4096];

	shutdown(fd, SHUT_WR);
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}
