/* SPDX-License-Identifier: MIT */
/* The inside of the migrator, shared by migrator.c and precopy.c. */
#ifndef KVMTRACK_MIGRATOR_IMPL_H
#define KVMTRACK_MIGRATOR_IMPL_H

#include <pthread.h>

#include "migrate/migrator.h"
#include "migrate/progress.h"
#include "migrate/stream.h"

struct migrator {
	struct vm *vm;
	pthread_t thread;
	bool thread_running;
	struct mig_params params;
	struct mig_progress progress;
};

/* The migration thread (precopy.c). */
void *precopy_thread(void *arg);

#endif
