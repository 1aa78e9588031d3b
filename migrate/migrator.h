/* SPDX-License-Identifier: MIT */
/*
 * Outgoing live migration: pre-copy over TCP, run in its own thread in the
 * source kvmtrack, driven by the control commands "migrate",
 * "query-migrate" and "migrate-cancel" (migrate_cmd.c).
 */
#ifndef KVMTRACK_MIGRATION_H
#define KVMTRACK_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct jw;
struct control;

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
};

struct migrator;

int migrator_create(struct vm *vm, struct migrator **out);
/* Joins a running migration (cancelling it) and frees m. */
void migrator_destroy(struct migrator *m);
/* Starts a migration; -EBUSY while one runs. */
int migrator_start(struct migrator *m, const struct mig_params *p, char *err,
		   size_t err_len);
int migrator_cancel(struct migrator *m);
/* Writes the query-migrate object: status, progress, final statistics. */
void migrator_query(struct migrator *m, struct jw *w);

/* The control commands; opaque is the migrator. */
int migrate_register_commands(struct control *c, void *opaque);

#endif
