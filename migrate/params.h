/* SPDX-License-Identifier: MIT */
/*
 * What an outgoing migration is asked to do: the "migrate" command's
 * arguments (commands.c), read by the migration thread (precopy.c,
 * sender.c, stop_copy.c) and never changed while it runs.
 */
#ifndef KVMTRACK_PARAMS_H
#define KVMTRACK_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "migrate/tls.h"

struct mig_params {
	char uri[300];
	uint64_t downtime_ms; /* default 300 */
	uint64_t max_bandwidth; /* bytes/s, 0 = unlimited */
	bool auto_converge;
	uint64_t timeout_ms; /* 0: none; when reached the migration fails */
	unsigned int max_passes; /* then switch over anyway (policy) */
	/*
	 * sent (default): the digest of every page as it was sent, kept
	 * during pre-copy, so the destination checks every byte it holds
	 * against what was sent at no cost in downtime; and with the guest
	 * stopped, a spot check of SPOT_CHECK_PAGES written pages read again
	 * against what was sent, which catches a dirty log that misses
	 * writes wholesale. full: the source reads its whole memory again
	 * with the guest stopped, which catches every missed write, for
	 * the written memory over the memory bandwidth of downtime (~55 ms
	 * for 256 MiB here), growing with the guest.
	 */
	bool verify_sent;
	/* Test only (x-lose-dirty-percent): pages whose number mod 100 is
	 * below this are not sent by dirty passes, as if the dirty log had
	 * missed them, to show that verification catches it. */
	unsigned int x_lose_dirty_percent;
	struct mig_tls_opts tls; /* all empty: a plain TCP stream */
};

#endif
