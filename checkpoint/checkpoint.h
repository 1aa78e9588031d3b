/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints of a running guest into a chain directory, and restoring
 * one (docs/checkpoint.md). The checkpointer lives in the kvmtrack that
 * runs the guest: it keeps a dirty set attached between checkpoints, so
 * that an incremental one holds only the pages written since the one
 * before. Driven by the control command "checkpoint" (commands.c).
 */
#ifndef KVMTRACK_CHECKPOINT_H
#define KVMTRACK_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint/manifest.h"

struct control;
struct vm;
struct vm_config;

struct checkpointer;

/* Says whether a checkpoint may start now: 0, or -EBUSY and why in err
 * (a migration is running). */
typedef int ckpt_busy_fn(void *arg, char *err, size_t err_len);

int checkpointer_create(struct vm *vm, ckpt_busy_fn *busy, void *busy_arg,
			struct checkpointer **out);
/* Detaches its dirty set and frees it. NULL is fine. */
void checkpointer_destroy(struct checkpointer *c);
/*
 * A restored guest, before it runs: its checkpoint (dir/name, whose
 * digest names it to children) becomes the last one taken here, and the
 * dirty set is attached now, so that the next --incremental checkpoint
 * into dir holds what the guest wrote since its restore.
 */
int checkpointer_adopt(struct checkpointer *c, const char *dir,
		       const char *name, uint64_t digest);

/* The pause aimed at: the live passes go on until what is left fits. */
#define CKPT_DEFAULT_MAX_PAUSE_MS 5
#define CKPT_DEFAULT_MAX_PASSES 8

struct ckpt_request {
	const char *dir;
	bool incremental; /* the first checkpoint of a chain is full anyway */
	bool stop; /* leave the guest paused afterwards */
	uint64_t max_pause_ms; /* 0: CKPT_DEFAULT_MAX_PAUSE_MS */
	unsigned int max_passes; /* live passes at most; 0: the default */
	/* A keys.psk file: the layer gets MACs under its first key (mac.h);
	 * an incremental one's parent must have them too. NULL: none. */
	const char *mac_psk;
};

/* The steps of the pause, in order. */
enum { CKPT_PAUSE_STOP, CKPT_PAUSE_PAGES, CKPT_PAUSE_STATE,
       CKPT_PAUSE_RESUME, CKPT_PAUSE_STEPS };

struct ckpt_result {
	char name[CKPT_NAME_MAX];
	char parent[CKPT_NAME_MAX]; /* "" for a full checkpoint */
	uint64_t digest; /* its manifest's, which its children record */
	uint64_t pause_ns, total_ns;
	uint64_t pages; /* held by this layer */
	uint64_t pause_pages; /* copied (again) with the guest paused */
	uint64_t pause_us[CKPT_PAUSE_STEPS]; /* where the pause went */
	uint64_t bytes; /* its files' bytes on disk */
	unsigned int passes; /* live copy passes before the pause */
	char switchover[96]; /* why it paused when it did */
};

/*
 * Takes one checkpoint of the guest into rq->dir: its pages copied while
 * it runs, then again those it wrote meanwhile, pass after pass, until
 * what is left fits in rq->max_pause_ms (the migration's convergence
 * policy, converge.h); then, paused, the rest and its state (the files
 * synced and committed after it resumes). -errno with why in err: refused during a migration, or an
 * incremental checkpoint whose parent is not the last one this
 * checkpointer took; a failure leaves the chain as it was.
 */
int checkpoint_take(struct checkpointer *c, const struct ckpt_request *rq,
		    struct ckpt_result *res, char *err, size_t err_len);

/* The control command "checkpoint"; opaque is the checkpointer. */
int checkpoint_register_commands(struct control *c, void *opaque);

/*
 * `run --restore DIR[/NAME]`: the chain is read and checked, a VM built
 * for its machine (cfg's -m and -c, when given, must match it), its
 * memory loaded from the layers from the base up to NAME (default: the
 * newest), each page from the newest layer holding it and checked (with
 * cfg->restore_lazy: as the guest touches it and in the background,
 * checkpoint/lazy.h), and the state of NAME loaded. The VM has not run
 * yet. -errno with err naming the layer and what is wrong. *restored
 * holds what the VM's configuration points to: free it after the VM.
 */
struct ckpt_restored;
int checkpoint_restore(const struct vm_config *cfg, const char *spec,
		       struct ckpt_restored **restored, struct vm **vm_out,
		       char *err, size_t err_len);
/* A lazy restore's threads stopped, once every page is in place: call it
 * before the VM goes. Nothing for a copy restore; NULL is fine. */
void checkpoint_restore_finish(struct ckpt_restored *r);
void checkpoint_restored_free(struct ckpt_restored *r);
/* The checkpoint a restore resumed, for checkpointer_adopt(). */
void checkpoint_restored_origin(const struct ckpt_restored *r,
				const char **dir, const char **name,
				uint64_t *digest);

#endif
