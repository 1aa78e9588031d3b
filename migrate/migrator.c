// SPDX-License-Identifier: MIT
/*
 * The migrator object: start, cancel, query (see migrator.h). It owns the
 * migration thread and its parameters; how the migration goes is in its
 * mig_progress, which the thread reports into (progress.h).
 */
#include "migrate/migrator.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "migrate/params.h"
#include "migrate/precopy.h"
#include "migrate/progress.h"
#include "vmm/vm.h"

struct migrator {
	struct vm *vm;
	pthread_t thread;
	bool thread_running;
	struct mig_params params; /* the running one's, or the last one's */
	struct mig_progress progress;
};

static void *migration_thread(void *arg)
{
	struct migrator *m = arg;

	precopy_run(m->vm, &m->params, &m->progress);
	return NULL;
}

int migrator_create(struct vm *vm, struct migrator **out)
{
	struct migrator *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->vm = vm;
	mig_progress_init(&m->progress);
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
	mig_progress_destroy(&m->progress);
	free(m);
}

int migrator_start(struct migrator *m, const struct mig_params *p, char *err,
		   size_t err_len)
{
	int ret = mig_progress_idle(&m->progress, err, err_len);

	if (ret)
		return ret;
	/* A lazily restored guest's memory is sent once it is all there: a
	 * page not in place yet would be skipped as a hole. */
	if (vm_mem_wait_filled(m->vm))
		log_info("migration: waited for the restored memory to be in place");
	if (m->thread_running) {
		/* The previous one ended: collect its thread. */
		pthread_join(m->thread, NULL);
		m->thread_running = false;
	}
	m->params = *p;
	mig_progress_begin(&m->progress);
	ret = pthread_create(&m->thread, NULL, migration_thread, m);
	if (ret) {
		mig_progress_set_status(&m->progress, MIG_STATUS_FAILED);
		snprintf(err, err_len, "cannot start the migration thread: %s",
			 strerror(ret));
	} else {
		m->thread_running = true;
	}
	return -ret;
}

int migrator_cancel(struct migrator *m)
{
	return mig_progress_cancel(&m->progress);
}

int migrator_idle(struct migrator *m, char *err, size_t err_len)
{
	return mig_progress_idle(&m->progress, err, err_len);
}

void migrator_query(struct migrator *m, uint64_t wait_ms, struct jw *w)
{
	mig_progress_query(&m->progress, m->params.uri, wait_ms, w);
}
