// SPDX-License-Identifier: MIT
/*
 * bench-alias: the cost of read-only aliases.
 *   1. alias_add + alias_remove of a 1 MiB alias on a created VM, N times
 *      (default 100): median, min, max in microseconds. That is two
 *      KVM_SET_USER_MEMORY_REGION calls and the checks around them.
 *   2. guest read bandwidth through an alias against through the
 *      original: runs `kvmtrack run ... workload=alias` (the guest times
 *      both with rdtsc, best of 4 reads of 4 MiB) and reports the ratio.
 * Prints Markdown rows for tests/bench/run.sh; --json FILE writes both.
 * Usage: bench-alias [--runs N] [--kvmtrack PATH] [--guest PATH] [--json FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/cli.h"
#include "vmm/alias/alias.h"
#include "vmm/mem/memory.h"
#include "vmm/vm.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int time_add_remove(const char *guest, int runs, double *add_us,
			   double *remove_us)
{
	char *argv[] = { "run", "-m", "256M", "--serial", "none",
			 (char *)guest, NULL };
	struct alias_spec spec = { 0x20000000, 0x100000, 1 << 20 };
	static struct vm_config cfg;
	struct vm *vm;
	char err[256];

	if (cli_parse_run(6, argv, &cfg, err, sizeof(err)) < 0 ||
	    vm_create(&cfg, &vm) < 0) {
		fprintf(stderr, "bench-alias: cannot create a VM\n");
		return -1;
	}
	for (int i = 0; i < runs; i++) {
		double t0 = now_us(), t1, t2;

		if (alias_add(vm_mem(vm), &spec, err, sizeof(err)) < 0)
			break;
		t1 = now_us();
		if (alias_remove(vm_mem(vm), spec.gpa, err, sizeof(err)) < 0)
			break;
		t2 = now_us();
		add_us[i] = t1 - t0;
		remove_us[i] = t2 - t1;
	}
	vm_destroy(vm);
	qsort(add_us, (size_t)runs, sizeof(double), cmp_double);
	qsort(remove_us, (size_t)runs, sizeof(double), cmp_double);
	return 0;
}

/* Runs the guest's alias workload; parses its bandwidth line. */
static int read_bandwidth(const char *kvmtrack, const char *guest,
			  double *alias_mbs, double *orig_mbs)
{
	char cmd[1024], line[512];
	unsigned long a = 0, o = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "%s run -m 256M --alias 0x20000000=0x1000000+4M --alias-write=ignore --cmdline workload=alias %s 2>/dev/null",
		 kvmtrack, guest);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "read bandwidth: alias ");

		if (p && sscanf(p, "read bandwidth: alias %lu MB/s, original %lu",
				&a, &o) == 2)
			break;
	}
	while (fgets(line, sizeof(line), f))
		;
	pclose(f);
	*alias_mbs = (double)a;
	*orig_mbs = (double)o;
	return a && o ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *kvmtrack = "./kvmtrack", *guest = "guest/kvmtrack-guest.elf";
	const char *json = NULL;
	int runs = 100;
	double *add, *rem, bw_a[3], bw_o[3];
	FILE *out;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--runs"))
			runs = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--kvmtrack"))
			kvmtrack = argv[i + 1];
		else if (!strcmp(argv[i], "--guest"))
			guest = argv[i + 1];
		else if (!strcmp(argv[i], "--json"))
			json = argv[i + 1];
	}
	if (runs < 1)
		runs = 1;
	add = calloc((size_t)runs, sizeof(double));
	rem = calloc((size_t)runs, sizeof(double));
	if (!add || !rem || time_add_remove(guest, runs, add, rem) < 0)
		return 1;
	for (int i = 0; i < 3; i++)
		if (read_bandwidth(kvmtrack, guest, &bw_a[i], &bw_o[i]) < 0) {
			fprintf(stderr, "bench-alias: no bandwidth from the guest\n");
			return 1;
		}
	qsort(bw_a, 3, sizeof(double), cmp_double);
	qsort(bw_o, 3, sizeof(double), cmp_double);
	printf("| alias | alias-add (1 MiB, %d runs) | %.1f | %.1f | %.1f | us | one KVM_SET_USER_MEMORY_REGION + checks |\n",
	       runs, add[runs / 2], add[0], add[runs - 1]);
	printf("| alias | alias-remove (%d runs) | %.1f | %.1f | %.1f | us | |\n",
	       runs, rem[runs / 2], rem[0], rem[runs - 1]);
	printf("| alias | guest read through alias (4 MiB, 3 runs) | %.0f | %.0f | %.0f | MB/s | |\n",
	       bw_a[1], bw_a[0], bw_a[2]);
	printf("| alias | guest read through original (4 MiB, 3 runs) | %.0f | %.0f | %.0f | MB/s | alias/original %.3f |\n",
	       bw_o[1], bw_o[0], bw_o[2], bw_a[1] / bw_o[1]);
	if (json && (out = fopen(json, "w"))) {
		fprintf(out,
			"{\"runs\": %d, \"add_us\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f}, "
			"\"remove_us\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f}, "
			"\"read_mb_s\": {\"alias_median\": %.0f, \"original_median\": %.0f, \"ratio\": %.4f}}\n",
			runs, add[runs / 2], add[0], add[runs - 1], rem[runs / 2],
			rem[0], rem[runs - 1], bw_a[1], bw_o[1], bw_a[1] / bw_o[1]);
		fclose(out);
	}
	free(add);
	free(rem);
	return 0;
}
