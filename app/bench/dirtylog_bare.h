/* SPDX-License-Identifier: MIT */
/*
 * `bench dirtylog --bare`: the same harvests as the dirty module's, made
 * with the KVM layer's calls alone, so the benchmark can show what the
 * module itself costs (dirtylog_bare.c).
 */
#ifndef KVMTRACK_BENCH_DIRTYLOG_BARE_H
#define KVMTRACK_BENCH_DIRTYLOG_BARE_H

#include <stdbool.h>
#include <stdint.h>

struct bench_bare;
struct dirty_config;
struct dirty_set;
struct vm;

/* Maps what the bare harvest needs (ring: every vCPU's ring). */
int bench_bare_create(struct vm *vm, const struct dirty_config *cfg,
		      struct bench_bare **out);
void bench_bare_destroy(struct bench_bare *b);
/* KVM_MEM_LOG_DIRTY_PAGES on or off on every writable slot. */
int bench_bare_logging(struct bench_bare *b, bool on);
/* Ring: starts the reaper for a pass; others: nothing. */
int bench_bare_pass_begin(struct bench_bare *b);
/* Stops the reaper; *reaper_ns is its CPU time harvesting. */
int bench_bare_pass_end(struct bench_bare *b, uint64_t *reaper_ns);
/* The timed harvest: GET (bitmap, manual), harvest + reset (ring). */
int bench_bare_get(struct bench_bare *b);
/* Manual only: CLEAR of every logged slot with an all-ones mask. */
int bench_bare_clear(struct bench_bare *b);
/* Untimed: ORs what the pass harvested into per-region bitmaps (the
 * layout of struct dirty_set), then forgets it. */
void bench_bare_collect(struct bench_bare *b, struct dirty_set *into);

#endif
