/* SPDX-License-Identifier: MIT */
/*
 * How an outgoing migration goes: its status, figures and error, which the
 * migration thread reports (precopy.c, sender.c, stop_copy.c) and
 * "query-migrate" reads, and the cancel request that goes the other way.
 * The migrator owns one; the thread never calls back into the migrator.
 */
#ifndef KVMTRACK_PROGRESS_H
#define KVMTRACK_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jw;
struct ram_counters;
struct converge_input;
struct converge_decision;

enum mig_status {
	MIG_STATUS_NONE,
	MIG_STATUS_SETUP,
	MIG_STATUS_ACTIVE, /* pre-copy passes */
	MIG_STATUS_DEVICE, /* stopped: final pages, state, digest */
	MIG_STATUS_COMPLETED,
	MIG_STATUS_FAILED,
	MIG_STATUS_CANCELLED,
};

struct mig_stats {
	uint64_t setup_ms;
	uint64_t total_ms;
	uint64_t downtime_ms; /* vCPUs stopped here -> resumed there */
	uint64_t downtime_us;
	uint64_t transferred_bytes;
	uint64_t normal_pages;
	uint64_t sparse_pages; /* of normal_pages, sent sparse */
	uint64_t zero_pages;
	uint64_t skipped_pages;
	unsigned int passes;
	unsigned int throttle_percent;
	bool verified;
	/* progress */
	uint64_t remaining_bytes;
	uint64_t dirty_pages_rate; /* pages/s during the last pass */
	uint64_t bandwidth; /* bytes/s during the last pass */
	uint64_t expected_downtime_ms;
	char switch_reason[96];
	/*
	 * Where the downtime went, in microseconds, one after the other.
	 * Written by the migration thread without the lock: taking it there
	 * would put a client's query into the downtime (stop_copy.c).
	 */
	uint64_t stop_us; /* pausing the vCPUs */
	uint64_t final_pages_us; /* last sync and the last dirty pages */
	uint64_t state_us; /* saving and sending the machine state */
	/* the source's memory digest: read by a vCPU thread meanwhile
	 * (digest_job.h), so what was left to wait for, and sending it */
	uint64_t digest_us;
	uint64_t ack_us; /* the destination: verify, load, resume, DONE */
};

struct mig_progress {
	pthread_mutex_t lock; /* guards status, stats, error, fd, final_seen */
	pthread_cond_t cond; /* a new status; a client read the final one */
	enum mig_status status;
	struct mig_stats stats;
	char error[512];
	bool cancel; /* set by migrate-cancel, read by the thread (atomic) */
	int fd; /* the connection, for shutdown() on cancel */
	bool final_seen; /* a client read the final status */
	uint64_t start_ns; /* set before the thread starts, then read-only */
};

/* No migration yet (NONE). The owner destroys it once no thread uses it. */
void mig_progress_init(struct mig_progress *p);
void mig_progress_destroy(struct mig_progress *p);
/* The status as query-migrate names it ("active", "completed"...). */
const char *mig_status_name(enum mig_status status);

/* 0 when no migration runs (none yet, or the last one ended), else
 * -EBUSY and err says which status it is in. */
int mig_progress_idle(struct mig_progress *p, char *err, size_t err_len);
/* A new migration: figures and error cleared, SETUP, the clock started. */
void mig_progress_begin(struct mig_progress *p);
/* A new status, woken waiters told. */
void mig_progress_set_status(struct mig_progress *p, enum mig_status status);
/*
 * Asks the running migration to stop: the thread sees p->cancel between
 * frames, and a send or receive blocked on the peer is broken. -EINVAL
 * when none runs.
 */
int mig_progress_cancel(struct mig_progress *p);
/* Whether mig_progress_cancel() asked the running migration to stop. */
bool mig_progress_cancelled(struct mig_progress *p);
/* The connection, which cancel shuts down. */
void mig_progress_set_fd(struct mig_progress *p, int fd);
/* Closes it (fd > 0) under the lock, so that a cancel never shuts down
 * another file that reuses its number. */
void mig_progress_close_fd(struct mig_progress *p, int fd);

/* Set-up is over after setup_ms: pre-copy passes begin (ACTIVE). */
void mig_progress_active(struct mig_progress *p, uint64_t setup_ms);
/* ram_sender's progress callback (ram_send.h); arg is the mig_progress. */
void mig_progress_ram(void *arg, const struct ram_counters *c);
/* What pass number `pass` measured and what the policy made of it. */
void mig_progress_pass(struct mig_progress *p, unsigned int pass,
		       const struct converge_decision *d,
		       const struct converge_input *in);
/* The end, a failure: FAILED or CANCELLED, with the reason in error. */
void mig_progress_fail(struct mig_progress *p, enum mig_status status,
		       const char *error);
/*
 * The end, a success: COMPLETED. Returns once a client has read it, or
 * after linger_ms, so that whoever started the migration learns how it
 * ended before the source stops.
 */
void mig_progress_complete(struct mig_progress *p, unsigned int linger_ms);

/*
 * The query-migrate object: status, destination, figures, error. With
 * wait_ms, a migration that runs is first given up to that long to end or
 * finish a pass, so that a client follows it without polling: each query
 * costs the source's CPU, ~1 ms in the test VM, and one every 10 ms was a
 * tenth of a CPU taken from the migration and the guest, through the
 * downtime too.
 */
void mig_progress_query(struct mig_progress *p, const char *destination,
			uint64_t wait_ms, struct jw *w);

#endif
