// SPDX-License-Identifier: MIT
/* How an outgoing migration goes, under its own lock (see progress.h). */
#include "migrate/progress.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/json/json.h"
#include "migrate/converge.h"
#include "migrate/ram_send.h"

const char *mig_status_name(enum mig_status status)
{
	switch (status) {
	case MIG_STATUS_NONE:
		return "none";
	case MIG_STATUS_SETUP:
		return "setup";
	case MIG_STATUS_ACTIVE:
		return "active";
	case MIG_STATUS_DEVICE:
		return "device";
	case MIG_STATUS_COMPLETED:
		return "completed";
	case MIG_STATUS_FAILED:
		return "failed";
	case MIG_STATUS_CANCELLED:
		return "cancelled";
	}
	return "unknown";
}

void mig_progress_init(struct mig_progress *p)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
}

void mig_progress_destroy(struct mig_progress *p)
{
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

static bool status_final(enum mig_status s)
{
	return s == MIG_STATUS_COMPLETED || s == MIG_STATUS_FAILED ||
	       s == MIG_STATUS_CANCELLED;
}

int mig_progress_idle(struct mig_progress *p, char *err, size_t err_len)
{
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	if (p->status != MIG_STATUS_NONE && !status_final(p->status)) {
		snprintf(err, err_len, "a migration is already running (%s)",
			 mig_status_name(p->status));
		ret = -EBUSY;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void mig_progress_begin(struct mig_progress *p)
{
	pthread_mutex_lock(&p->lock);
	memset(&p->stats, 0, sizeof(p->stats));
	p->error[0] = '\0';
	p->cancel = false;
	p->final_seen = false;
	p->status = MIG_STATUS_SETUP;
	p->start_ns = clock_now_ns();
	pthread_mutex_unlock(&p->lock);
}

void mig_progress_set_status(struct mig_progress *p, enum mig_status status)
{
	pthread_mutex_lock(&p->lock);
	p->status = status;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

int mig_progress_cancel(struct mig_progress *p)
{
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	if (p->status == MIG_STATUS_NONE || status_final(p->status)) {
		ret = -EINVAL;
	} else {
		__atomic_store_n(&p->cancel, true, __ATOMIC_RELAXED);
		/* Breaks a send or receive that is blocked on the peer. */
		if (p->fd >= 0)
			shutdown(p->fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

bool mig_progress_cancelled(struct mig_progress *p)
{
	return __atomic_load_n(&p->cancel, __ATOMIC_RELAXED);
}

void mig_progress_set_fd(struct mig_progress *p, int fd)
{
	pthread_mutex_lock(&p->lock);
	p->fd = fd;
	pthread_mutex_unlock(&p->lock);
}

void mig_progress_close_fd(struct mig_progress *p, int fd)
{
	pthread_mutex_lock(&p->lock);
	if (fd > 0)
		close(fd);
	p->fd = -1;
	pthread_mutex_unlock(&p->lock);
}

void mig_progress_active(struct mig_progress *p, uint64_t setup_ms)
{
	pthread_mutex_lock(&p->lock);
	p->stats.setup_ms = setup_ms;
	p->status = MIG_STATUS_ACTIVE;
	pthread_mutex_unlock(&p->lock);
}

void mig_progress_ram(void *arg, const struct ram_counters *c)
{
	struct mig_progress *p = arg;

	pthread_mutex_lock(&p->lock);
	p->stats.transferred_bytes = c->bytes;
	p->stats.normal_pages = c->normal_pages;
	p->stats.sparse_pages = c->sparse_pages;
	p->stats.zero_pages = c->zero_pages;
	p->stats.skipped_pages = c->skipped_pages;
	pthread_mutex_unlock(&p->lock);
}

void mig_progress_pass(struct mig_progress *p, unsigned int pass,
		       const struct converge_decision *d,
		       const struct converge_input *in)
{
	struct mig_stats *st = &p->stats;

	pthread_mutex_lock(&p->lock);
	st->passes = pass;
	st->remaining_bytes = in->remaining_pages * 4096;
	st->bandwidth = (uint64_t)in->bandwidth;
	st->dirty_pages_rate =
		(uint64_t)(in->pass_s > 0 ? in->remaining_pages / in->pass_s : 0);
	st->expected_downtime_ms = (uint64_t)(d->expected_downtime_ms + 0.5);
	st->throttle_percent = d->throttle_percent;
	snprintf(st->switch_reason, sizeof(st->switch_reason), "%s",
		 d->reason);
	/* A query waiting for news (wait_for_news()) reports the pass. */
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void mig_progress_fail(struct mig_progress *p, enum mig_status status,
		       const char *error)
{
	pthread_mutex_lock(&p->lock);
	snprintf(p->error, sizeof(p->error), "%s", error);
	p->status = status;
	p->stats.total_ms = (clock_now_ns() - p->start_ns) / 1000000;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void mig_progress_complete(struct mig_progress *p, unsigned int linger_ms)
{
	struct timespec deadline;

	pthread_mutex_lock(&p->lock);
	p->stats.total_ms = (clock_now_ns() - p->start_ns) / 1000000;
	p->stats.verified = true;
	p->stats.remaining_bytes = 0;
	p->status = MIG_STATUS_COMPLETED;
	pthread_cond_broadcast(&p->cond);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += linger_ms / 1000;
	while (!p->final_seen &&
	       pthread_cond_timedwait(&p->cond, &p->lock, &deadline) == 0)
		;
	pthread_mutex_unlock(&p->lock);
}

static void query_stats(const struct mig_stats *s, struct jw *w)
{
	jw_u64(w, "setup_ms", s->setup_ms);
	jw_u64(w, "total_ms", s->total_ms);
	jw_u64(w, "downtime_ms", s->downtime_ms);
	jw_u64(w, "downtime_us", s->downtime_us);
	jw_u64(w, "transferred_bytes", s->transferred_bytes);
	jw_u64(w, "normal_pages", s->normal_pages);
	jw_u64(w, "sparse_pages", s->sparse_pages);
	jw_u64(w, "zero_pages", s->zero_pages);
	jw_u64(w, "skipped_pages", s->skipped_pages);
	jw_u64(w, "passes", s->passes);
	jw_u64(w, "throttle_percent", s->throttle_percent);
	jw_bool(w, "verified", s->verified);
	jw_u64(w, "remaining_bytes", s->remaining_bytes);
	jw_u64(w, "dirty_pages_rate", s->dirty_pages_rate);
	jw_u64(w, "bandwidth", s->bandwidth);
	jw_u64(w, "expected_downtime_ms", s->expected_downtime_ms);
	if (s->switch_reason[0])
		jw_string(w, "switchover", s->switch_reason);
	jw_object_begin(w, "downtime_breakdown_us");
	jw_u64(w, "stop", s->stop_us);
	jw_u64(w, "final_pages", s->final_pages_us);
	jw_u64(w, "state", s->state_us);
	jw_u64(w, "digest", s->digest_us);
	jw_u64(w, "destination", s->ack_us);
	jw_object_end(w);
}

/* Until the running migration ends, a pass ends, or wait_ms pass.
 * p->lock held. */
static void wait_for_news(struct mig_progress *p, uint64_t wait_ms)
{
	uint64_t passes = p->stats.passes;
	struct timespec deadline;

	if (!wait_ms || p->status == MIG_STATUS_NONE)
		return;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += wait_ms / 1000;
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	while (!status_final(p->status) && p->stats.passes == passes &&
	       pthread_cond_timedwait(&p->cond, &p->lock, &deadline) == 0)
		;
}

void mig_progress_query(struct mig_progress *p, const char *destination,
			uint64_t wait_ms, struct jw *w)
{
	pthread_mutex_lock(&p->lock);
	wait_for_news(p, wait_ms);
	jw_object_begin(w, NULL);
	jw_string(w, "status", mig_status_name(p->status));
	if (p->status != MIG_STATUS_NONE) {
		jw_string(w, "destination", destination);
		if (!status_final(p->status))
			p->stats.total_ms =
				(clock_now_ns() - p->start_ns) / 1000000;
		query_stats(&p->stats, w);
	}
	if (p->error[0])
		jw_string(w, "error", p->error);
	jw_object_end(w);
	if (status_final(p->status)) {
		p->final_seen = true;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
}
