/* SPDX-License-Identifier: MIT */
/*
 * A one-connection TCP proxy for the fault matrix (test_fault_matrix.c),
 * run as a forked process: it follows the migration's frames (proto.h)
 * both ways and injects one fault when the stream reaches one phase.
 *
 * Phases, by the first frame header that completes: the connection itself
 * (before a byte), CONFIG, the first pass (RAM_LIVE or SPARSE), a later
 * pass (the same after a PASS), stop-and-copy (RAM: pages read with the
 * guest stopped), STATE, DIGEST; and the destination's DONE, coming back.
 *
 * Faults: kill the destination (SIGKILL to target_pid); close both
 * connections; corrupt a byte (a bit of the frame's CRC, so the frame is
 * refused whole; at the connection, the stream's first byte); stall (both
 * ways stop, the connections stay open until the source gives up); a slow
 * link (from then on, both ways at SLOW_BYTES_PER_S).
 */
#ifndef KVMTRACK_TESTS_FAULT_PROXY_H
#define KVMTRACK_TESTS_FAULT_PROXY_H

#include <stdbool.h>
#include <sys/types.h>

#include "tests/e2e/tcp_proxy.h"

enum fp_phase {
	FP_CONNECT,
	FP_CONFIG,
	FP_FIRST_PASS,
	FP_LATER_PASS,
	FP_STOP_COPY,
	FP_STATE,
	FP_DIGEST,
	FP_DONE,
	FP_NR_PHASES,
};

enum fp_fault {
	FP_KILL,
	FP_CLOSE,
	FP_CORRUPT,
	FP_STALL,
	FP_SLOW,
	FP_NR_FAULTS,
};

#define FP_SLOW_BYTES_PER_S (4 << 20)

extern const char *const fp_phase_names[FP_NR_PHASES];
extern const char *const fp_fault_names[FP_NR_FAULTS];

/* Listens before it returns; finish with tcp_proxy_finish(), true when
 * the phase was reached and the fault injected. */
int fault_proxy_start(struct tcp_proxy *p, int listen_port, int target_port,
		      enum fp_phase phase, enum fp_fault fault,
		      pid_t target_pid);

#endif
