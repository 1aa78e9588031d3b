/* SPDX-License-Identifier: MIT */
/*
 * What the end-to-end checkpoint tests share: a chain directory, `kvmtrack
 * checkpoint --json` run and checked, a restore, a refused restore.
 */
#ifndef KVMTRACK_TESTS_CHECKPOINT_HELPERS_H
#define KVMTRACK_TESTS_CHECKPOINT_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "tests/e2e/migrate_helpers.h"

struct json_value;

/* Paced, so that an incremental checkpoint holds far fewer pages than
 * the full one before it. heartbeat=50: 20 beats a second. */
#define WRITER "workload=random wss=32M rate=3000 heartbeat=50 verify=1 "

/* /tmp/kt-PID-NAME, removed if it was there. */
void ck_chain_dir(char *dir, size_t len, const char *name);
/* `kvmtrack checkpoint --json [option]`; its parsed output (json_free it),
 * or NULL with the exit status and stderr in *r when it failed. */
struct json_value *ck_checkpoint(const struct mig_host *h, const char *dir,
				 const char *option, struct proc_result *r);
/* A checkpoint that must succeed, with every field of its --json; its
 * pages, and those copied with the guest paused in *pause_pages. */
uint64_t ck_expect_checkpoint(const struct mig_host *h, const char *dir,
			      const char *name, const char *parent,
			      uint64_t *pause_pages_out);
/* The bundled guest restored from spec, here. */
void ck_restore(struct mig_host *h, const char *name, const char *spec);
/* `run --restore spec [extra 128M]` that must be refused, saying `why`. */
void ck_expect_refused(const char *spec, const char *extra, const char *why);
/* system(), which must succeed. */
__attribute__((format(printf, 1, 2))) void ck_shell(const char *fmt, ...);

/* The first page that layer dir/name holds and none of the newer ones
 * (NULL-terminated) does, or -1. */
long ck_page_held_only_by(const char *dir, const char *name,
			  const char *const *newer);

#endif
