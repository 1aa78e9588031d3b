// SPDX-License-Identifier: MIT
/* CPU time of this process's threads (see thread_cpu.h). */
#include "lib/thread_cpu.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

int thread_ids(int *tids, int max)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max)
		if (e->d_name[0] != '.')
			tids[n++] = atoi(e->d_name);
	closedir(d);
	return n;
}

int thread_new(const int *before, int nb, const int *after, int na)
{
	for (int i = 0; i < na; i++) {
		bool seen = false;

		for (int j = 0; j < nb && !seen; j++)
			seen = after[i] == before[j];
		if (!seen)
			return after[i];
	}
	return 0;
}

/* The first field of its schedstat. */
uint64_t thread_cpu_ns(int tid)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *f;

	if (!tid)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}
