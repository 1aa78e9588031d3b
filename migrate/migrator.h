/* SPDX-License-Identifier: MIT */
/*
 * Outgoing live migration: pre-copy over TCP, run in its own thread in the
 * source kvmtrack, driven by the control commands "migrate",
 * "query-migrate" and "migrate-cancel" (commands.c).
 */
#ifndef KVMTRACK_MIGRATION_H
#define KVMTRACK_MIGRATION_H

#include <stddef.h>

#include "migrate/params.h"

struct vm;
struct jw;
struct control;

struct migrator;

int migrator_create(struct vm *vm, struct migrator **out);
/* Joins a running migration (cancelling it) and frees m. */
void migrator_destroy(struct migrator *m);
/* Starts a migration; -EBUSY while one runs. */
int migrator_start(struct migrator *m, const struct mig_params *p, char *err,
		   size_t err_len);
int migrator_cancel(struct migrator *m);
/* 0 when no migration runs, else -EBUSY and its status in err. */
int migrator_idle(struct migrator *m, char *err, size_t err_len);
/* Writes the query-migrate object: status, progress, final statistics;
 * after up to wait_ms for a running migration to end or finish a pass
 * (progress.h). */
void migrator_query(struct migrator *m, uint64_t wait_ms, struct jw *w);

/* The control commands; opaque is the migrator. */
int migrate_register_commands(struct control *c, void *opaque);

#endif
