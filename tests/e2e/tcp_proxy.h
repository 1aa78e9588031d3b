/* SPDX-License-Identifier: MIT */
/*
 * A one-connection TCP proxy for failure-injection tests, run as a forked
 * process: it accepts one connection on 127.0.0.1:listen_port, connects to
 * 127.0.0.1:target_port and forwards both ways. Optionally, it injects one
 * fault into the client-to-target direction once after_bytes have gone
 * through:
 *   TCP_PROXY_CLOSE  closes both connections at that point;
 *   TCP_PROXY_FLIP   flips one bit in the first page's data of the first
 *                    migration RAM frame (proto.h: the last pages, sent
 *                    with the guest stopped) that starts at or after that
 *                    point, so that only the page's hash can catch it, and
 *                    goes on forwarding (the target's answer reaches the
 *                    client);
 *   TCP_PROXY_FLIP_LIST a bit of the page list of the first RAM or RAM_LIVE
 *                    frame from that point, which the frame's CRC covers;
 *   TCP_PROXY_FLIP_AT flips a bit of byte after_bytes, whatever the stream
 *                    (TLS records, say), and goes on forwarding;
 *   TCP_PROXY_EAT_DONE forwards everything but the target's DONE frame:
 *                    there it closes both connections, as a network that
 *                    fails just as the guest moved would (after_bytes is
 *                    not used);
 *   TCP_PROXY_TRICKLE from that point forwards one byte every
 *                    TCP_PROXY_TRICKLE_MS, each sooner than a read times
 *                    out, whatever the stream (inside a frame, a TLS
 *                    record), until the target closes: a hostile peer.
 */
#define TCP_PROXY_TRICKLE_MS 3000
#ifndef KVMTRACK_TESTS_TCP_PROXY_H
#define KVMTRACK_TESTS_TCP_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/e2e/migrate_helpers.h"

enum tcp_proxy_fault {
	TCP_PROXY_PASS,
	TCP_PROXY_CLOSE,
	TCP_PROXY_FLIP,
	TCP_PROXY_FLIP_LIST,
	TCP_PROXY_EAT_DONE,
	TCP_PROXY_FLIP_AT,
	TCP_PROXY_TRICKLE,
};

struct tcp_proxy {
	pid_t pid;
	int port;
};

/* 127.0.0.1:port, listening (backlog 1) or connected; -errno or -1. */
int tcp_proxy_listen(int port);
int tcp_proxy_connect(int port);
/* All of buf to fd; false when the connection failed. */
bool tcp_proxy_send_all(int fd, const uint8_t *buf, size_t n);
/* Listens before it returns, so a client may connect at once. */
int tcp_proxy_start(struct tcp_proxy *p, int listen_port, int target_port,
		    enum tcp_proxy_fault fault, uint64_t after_bytes);
/*
 * Waits up to timeout_ms for the proxy to finish (both sides closed),
 * killing it after that. True when the fault was injected (or, for
 * TCP_PROXY_PASS, when the connection was forwarded to its end).
 */
bool tcp_proxy_finish(struct tcp_proxy *p, int timeout_ms);

/*
 * src -> dst through a fault-injecting proxy listening on proxy_port; the
 * proxy has finished, and injected its fault (what it failed to do says
 * `missed`), when this returns.
 */
struct proc_result mig_migrate_via_proxy(struct mig_host *src,
					 const struct mig_host *dst,
					 int proxy_port,
					 enum tcp_proxy_fault fault,
					 uint64_t after_bytes,
					 const char *const *opts,
					 const char *missed);

#endif
