// SPDX-License-Identifier: MIT
/* The fault matrix's proxy (see fault_proxy.h). */
#include "tests/e2e/fault_proxy.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR_BYTES 20 /* migrate/proto.h */
#define CHUNK_BYTES 65536
/* Frame types (migrate/proto.h's enum mig_frame). */
enum { F_CONFIG = 2, F_RAM = 4, F_SPARSE = 5, F_PASS = 6, F_STATE = 7,
       F_DIGEST = 8, F_RAM_LIVE = 9, F_DONE = 65 };

const char *const fp_phase_names[FP_NR_PHASES] = {
	"connect", "CONFIG", "first pass", "later pass", "stop-and-copy",
	"state", "digest", "DONE",
};
const char *const fp_fault_names[FP_NR_FAULTS] = {
	"kill destination", "close", "corrupt", "stall", "slow link",
};

struct scan {
	uint8_t hdr[HDR_BYTES];
	unsigned int hdr_have;
	uint64_t payload_left;
};

struct fp {
	int cfd, tfd;
	enum fp_phase phase;
	enum fp_fault fault;
	pid_t target_pid;
	bool injected, seen_pass, stalled, slow, corrupt_first;
	struct scan up, down;
};

/* Whether a frame of this type, going this way, is the phase's. */
static bool is_phase(struct fp *p, unsigned int type, bool up)
{
	bool pass = type == F_RAM_LIVE || type == F_SPARSE;

	if (!up)
		return p->phase == FP_DONE && type == F_DONE;
	if (type == F_PASS)
		p->seen_pass = true;
	switch (p->phase) {
	case FP_CONFIG: return type == F_CONFIG;
	case FP_FIRST_PASS: return pass;
	case FP_LATER_PASS: return pass && p->seen_pass;
	case FP_STOP_COPY: return type == F_RAM;
	case FP_STATE: return type == F_STATE;
	case FP_DIGEST: return type == F_DIGEST;
	default: return false;
	}
}

/*
 * Follows the frames in buf[0..n); returns the offset just past the first
 * header of the phase (n + 1 when none completes here).
 */
static size_t scan(struct fp *p, struct scan *sc, const uint8_t *buf,
		   size_t n, bool up)
{
	size_t i = 0;

	while (i < n) {
		size_t take;

		if (sc->payload_left) {
			take = sc->payload_left < n - i ? sc->payload_left : n - i;
			sc->payload_left -= take;
			i += take;
			continue;
		}
		take = HDR_BYTES - sc->hdr_have < n - i ? HDR_BYTES - sc->hdr_have :
							  n - i;
		for (size_t k = 0; k < take; k++)
			sc->hdr[sc->hdr_have++] = buf[i + k];
		i += take;
		if (sc->hdr_have < HDR_BYTES)
			continue;
		sc->hdr_have = 0;
		sc->payload_left = (uint64_t)sc->hdr[8] | (uint64_t)sc->hdr[9] << 8 |
				   (uint64_t)sc->hdr[10] << 16 |
				   (uint64_t)sc->hdr[11] << 24;
		if (is_phase(p, (unsigned int)(sc->hdr[6] | sc->hdr[7] << 8), up))
			return i;
	}
	return n + 1;
}

/* At the slow link's rate: what n bytes take on it. */
static void pace(const struct fp *p, size_t n)
{
	struct timespec t = { 0, 0 };
	uint64_t ns = (uint64_t)n * 1000000000ull / FP_SLOW_BYTES_PER_S;

	if (!p->slow)
		return;
	t.tv_sec = (time_t)(ns / 1000000000ull);
	t.tv_nsec = (long)(ns % 1000000000ull);
	nanosleep(&t, NULL);
}

static void close_both(struct fp *p)
{
	close(p->cfd);
	if (p->tfd >= 0)
		close(p->tfd);
	p->cfd = p->tfd = -1;
}

/* The fault, at the phase; false when nothing is relayed any more. */
static bool inject(struct fp *p)
{
	p->injected = true;
	switch (p->fault) {
	case FP_KILL:
		kill(p->target_pid, SIGKILL);
		close_both(p);
		return false;
	case FP_CLOSE:
		close_both(p);
		return false;
	case FP_STALL:
		p->stalled = true;
		return false;
	case FP_SLOW:
		p->slow = true;
		return true;
	default:
		return true;
	}
}

/* One chunk from `from` to `to`; false when this way is over. */
static bool relay_chunk(struct fp *p, bool up)
{
	static uint8_t buf[CHUNK_BYTES];
	int from = up ? p->cfd : p->tfd, to = up ? p->tfd : p->cfd;
	ssize_t n = read(from, buf, sizeof(buf));
	size_t at = (size_t)n + 1;

	if (n <= 0) {
		shutdown(to, SHUT_WR);
		return false;
	}
	if (p->corrupt_first) {
		buf[0] ^= 0x01;
		p->corrupt_first = false;
	}
	if (!p->injected)
		at = scan(p, up ? &p->up : &p->down, buf, (size_t)n, up);
	if (at <= (size_t)n) {
		if (p->fault == FP_CORRUPT)
			buf[at - 1] ^= 0x01; /* the CRC's last byte */
		/* DONE goes back only where the fault lets it through. */
		if (up || p->fault == FP_CORRUPT || p->fault == FP_SLOW)
			tcp_proxy_send_all(to, buf, at);
		if (!inject(p))
			return false;
		pace(p, (size_t)n);
		/* This way goes on until the source closes, whatever the
		 * destination still takes. */
		tcp_proxy_send_all(to, buf + at, (size_t)n - at);
		return true;
	}
	pace(p, (size_t)n);
	return tcp_proxy_send_all(to, buf, (size_t)n);
}

/* Stalled: nothing moves; when the source gives up, so do we. */
static void wait_stalled(struct fp *p)
{
	struct pollfd pfd = { .fd = p->cfd, .events = POLLRDHUP };

	while (poll(&pfd, 1, 60000) == 1 && !(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
		;
	close_both(p);
}

/* Until the source closes: what the destination says after that has no
 * one to hear it (and a destination that runs the guest keeps its end). */
static void relay(struct fp *p)
{
	bool up = true, down = true;

	while (up && p->cfd >= 0 && !p->stalled) {
		struct pollfd pfd[2] = {
			{ .fd = up ? p->cfd : -1, .events = POLLIN },
			{ .fd = down ? p->tfd : -1, .events = POLLIN },
		};

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
			down = relay_chunk(p, false);
		if (p->cfd >= 0 && !p->stalled &&
		    pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			up = relay_chunk(p, true);
	}
	if (p->stalled)
		wait_stalled(p);
	if (p->cfd >= 0)
		close_both(p);
}

/* The connection itself is the phase: the fault before a byte moves. */
static void at_connect(struct fp *p, int target_port)
{
	p->injected = true;
	if (p->fault == FP_KILL)
		kill(p->target_pid, SIGKILL);
	if (p->fault == FP_KILL || p->fault == FP_CLOSE)
		return;
	p->tfd = tcp_proxy_connect(target_port);
	p->corrupt_first = p->fault == FP_CORRUPT;
	p->stalled = p->fault == FP_STALL;
	p->slow = p->fault == FP_SLOW;
}

int fault_proxy_start(struct tcp_proxy *tp, int listen_port, int target_port,
		      enum fp_phase phase, enum fp_fault fault,
		      pid_t target_pid)
{
	struct fp p = { .phase = phase, .fault = fault,
			.target_pid = target_pid, .tfd = -1 };
	int lfd = tcp_proxy_listen(listen_port);

	if (lfd < 0)
		return lfd;
	tp->port = listen_port;
	tp->pid = fork();
	if (tp->pid != 0) {
		close(lfd);
		return tp->pid < 0 ? -errno : 0;
	}
	/* The child: one connection, then exit without the test's atexit. */
	p.cfd = accept(lfd, NULL, NULL);
	close(lfd);
	if (p.cfd < 0)
		_exit(2);
	if (phase == FP_CONNECT)
		at_connect(&p, target_port);
	else
		p.tfd = tcp_proxy_connect(target_port);
	if (p.tfd < 0) {
		close(p.cfd);
		_exit(p.injected ? 0 : 2);
	}
	relay(&p);
	_exit(p.injected ? 0 : 1);
}
