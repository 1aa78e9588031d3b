/* SPDX-License-Identifier: MIT */
/* The inside of the migrator, shared by migrator.c and precopy.c. */
#ifndef KVMTRACK_MIGRATOR_IMPL_H
#define KVMTRACK_MIGRATOR_IMPL_H

#include "migrate/migrator.h"
#include "migrate/stream.h"

struct migrator {
	struct vm *vm;
	pthread_mutex_t lock; /* guards status, stats, error */
	pthread_cond_t cond;
	pthread_t thread;
	bool thread_running;
	struct mig_params params;
	enum mig_status status;
	struct mig_stats stats;
	char error[512];
	bool cancel; /* set by migrate-cancel, read by the thread */
	int fd; /* the connection, for shutdown() on cancel */
	bool final_seen; /* a client read the final status */
	uint64_t start_ns;
};

/* The migration thread (precopy.c). */
void *precopy_thread(void *arg);

void migrator_set_status(struct migrator *m, enum mig_status status);

#endif
