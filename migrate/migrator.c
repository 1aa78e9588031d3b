// SPDX-License-Identifier: MIT
/* The migrator object: start, cancel, query (see migration.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "migrate/migrator_impl.h"
#include "lib/clock.h"
#include "lib/json/json.h"

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

int migrator_create(struct vm *vm, struct migrator **out)
{
	struct migrator *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->vm = vm;
	m->fd = -1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	*out = m;
	return 0;
}

void migrator_destroy(struct migrator *m)
{
	if (!m)
		return;
	if (m->thread_running) {
		migrator_cancel(m);
		pthread_join(m->thread, NULL);
	}
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void migrator_set_status(struct migrator *m, enum mig_status status)
{
	pthread_mutex_lock(&m->lock);
	m->status = status;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

static bool status_final(enum mig_status s)
{
	return s == MIG_STATUS_COMPLETED || s == MIG_STATUS_FAILED ||
	       s == MIG_STATUS_CANCELLED;
}

int migrator_start(struct migrator *m, const struct mig_params *p, char *err,
		   size_t err_len)
{
	int ret;

	pthread_mutex_lock(&m->lock);
	if (m->status != MIG_STATUS_NONE && !status_final(m->status)) {
		pthread_mutex_unlock(&m->lock);
		snprintf(err, err_len, "a migration is already running (%s)",
			 mig_status_name(m->status));
		return -EBUSY;
	}
	if (m->thread_running) {
		/* The previous one ended: collect its thread. */
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->thread, NULL);
		pthread_mutex_lock(&m->lock);
		m->thread_running = false;
	}
	m->params = *p;
	memset(&m->stats, 0, sizeof(m->stats));
	m->error[0] = '\0';
	m->cancel = false;
	m->final_seen = false;
	m->status = MIG_STATUS_SETUP;
	m->start_ns = clock_now_ns();
	ret = pthread_create(&m->thread, NULL, precopy_thread, m);
	if (ret) {
		m->status = MIG_STATUS_FAILED;
		snprintf(err, err_len, "cannot start the migration thread: %s",
			 strerror(ret));
	} else {
		m->thread_running = true;
	}
	pthread_mutex_unlock(&m->lock);
	return -ret;
}

int migrator_cancel(struct migrator *m)
{
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	if (m->status == MIG_STATUS_NONE || status_final(m->status)) {
		ret = -EINVAL;
	} else {
		__atomic_store_n(&m->cancel, true, __ATOMIC_RELAXED);
		/* Breaks a send or receive that is blocked on the peer. */
		if (m->fd >= 0)
			shutdown(m->fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
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

void migrator_query(struct migrator *m, struct jw *w)
{
	pthread_mutex_lock(&m->lock);
	jw_object_begin(w, NULL);
	jw_string(w, "status", mig_status_name(m->status));
	if (m->status != MIG_STATUS_NONE) {
		jw_string(w, "destination", m->params.uri);
		if (!status_final(m->status))
			m->stats.total_ms =
				(clock_now_ns() - m->start_ns) / 1000000;
		query_stats(&m->stats, w);
	}
	if (m->error[0])
		jw_string(w, "error", m->error);
	jw_object_end(w);
	if (status_final(m->status)) {
		m->final_seen = true;
		pthread_cond_broadcast(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
}
