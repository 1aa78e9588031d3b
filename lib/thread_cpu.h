/* SPDX-License-Identifier: MIT */
/*
 * CPU time of this process's threads, from /proc/self/task: how a
 * benchmark charges a thread the VMM started (the dirty ring's reaper) to
 * what it measures.
 */
#ifndef KVMTRACK_THREAD_CPU_H
#define KVMTRACK_THREAD_CPU_H

#include <stdint.h>

/* Thread ids of this process into tids[0..max); returns how many. */
int thread_ids(int *tids, int max);
/* A thread in after[] that is not in before[] (one that started between
 * the two lists), or 0. */
int thread_new(const int *before, int nb, const int *after, int na);
/* CPU time of thread tid of this process, ns; 0 when unknown. */
uint64_t thread_cpu_ns(int tid);

#endif
