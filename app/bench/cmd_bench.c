// SPDX-License-Identifier: MIT
/*
 * `kvmtrack bench`: built-in benchmarks. `bench dirtylog` times the phases
 * of dirty logging around a guest that dirties memory in exact passes
 * (bench_dirtylog.c) and prints a table, or JSON with --json.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/bench/dirtylog.h"
#include "app/cmd.h"
#include "lib/json/json.h"
#include "lib/log.h"
#include "lib/parse.h"

#define DEFAULT_IMAGE "guest/kvmtrack-guest.elf"
#define GIB (1024.0 * 1024.0 * 1024.0)

static const char bench_usage[] =
	"Usage: kvmtrack bench dirtylog [options]\n"
	"  Boots the bundled guest in its synchronised mode and times dirty\n"
	"  logging phase by phase: populate (logging off), enable logging, per\n"
	"  iteration the guest's pass / get-log / clear-log, disable logging.\n"
	"  Checks every iteration's log against the pages the guest wrote.\n"
	"\n"
	"  -m, --mem SIZE          working set the guest dirties (default 1G);\n"
	"                          guest RAM is SIZE + SIZE/128 + 16M\n"
	"  -c, --vcpus N           writing vCPUs (default 1, at most 16)\n"
	"      --mode KIND         bitmap | manual | ring[:ENTRIES] (default manual;\n"
	"                          ring entries default to 65536)\n"
	"  -i, --iterations N      dirty/harvest iterations (default 5)\n"
	"  -w, --write-percent P   pages written per pass, % (default 100)\n"
	"      --bare              time only the KVM ioctls, not the dirty module\n"
	"      --verify            the guest checks every page's stamp at the end\n"
	"      --image PATH        guest image (default " DEFAULT_IMAGE ")\n"
	"      --serial KIND       none | file:PATH (default none)\n"
	"      --json              JSON on stdout instead of the table\n"
	"  -h, --help              this text\n"
	"Exit status: 0, 1 when the run or a correctness check failed, 2 for\n"
	"usage errors.\n";

struct bench_cli {
	struct bench_dirtylog_opts o;
	bool json;
};

enum { OPT_MODE = 256, OPT_BARE, OPT_VERIFY, OPT_IMAGE, OPT_SERIAL, OPT_JSON };

static int parse_mode(const char *text, struct dirty_config *cfg, char *err,
		      size_t err_len)
{
	int ret = dirty_parse_backend(text, cfg, err, err_len);

	if (ret < 0)
		return ret;
	if (!strcmp(text, "ring"))
		cfg->ring_entries = BENCH_RING_ENTRIES;
	return 0;
}

static int parse_serial(const char *text, struct serial_config *s)
{
	if (!strcmp(text, "none")) {
		s->kind = SERIAL_NONE;
		return 0;
	}
	if (!strncmp(text, "file:", 5) && text[5]) {
		s->kind = SERIAL_FILE;
		s->path = text + 5;
		return 0;
	}
	return -EINVAL;
}

static int parse_one(struct bench_cli *b, int opt, const char *arg,
		     char *err, size_t err_len)
{
	struct bench_dirtylog_opts *o = &b->o;
	uint64_t v;

	switch (opt) {
	case 'm':
		if (parse_size(arg, &v) < 0 || v < (1ull << 20) ||
		    v % 4096 || v > (2ull << 40))
			goto bad;
		o->wss_bytes = v;
		return 0;
	case 'c':
		if (parse_uint(arg, 1, VM_MAX_CPUS, &v) < 0)
			goto bad;
		o->nr_vcpus = (unsigned int)v;
		return 0;
	case 'i':
		if (parse_uint(arg, 1, BENCH_MAX_ITERATIONS, &v) < 0)
			goto bad;
		o->iterations = (unsigned int)v;
		return 0;
	case 'w':
		if (parse_uint(arg, 1, 100, &v) < 0)
			goto bad;
		o->write_percent = (unsigned int)v;
		return 0;
	case OPT_MODE:
		return parse_mode(arg, &o->dirty, err, err_len);
	case OPT_SERIAL:
		if (parse_serial(arg, &o->serial) < 0)
			goto bad;
		return 0;
	case OPT_IMAGE:
		o->image_path = arg;
		return 0;
	case OPT_BARE:
		o->bare = true;
		return 0;
	case OPT_VERIFY:
		o->verify = true;
		return 0;
	case OPT_JSON:
		b->json = true;
		return 0;
	}
	snprintf(err, err_len, "unknown option");
	return -EINVAL;
bad:
	snprintf(err, err_len, "bad value '%s' for option %s", arg,
		 opt == 'm' ? "--mem" : opt == 'c' ? "--vcpus" :
		 opt == 'i' ? "--iterations" : opt == 'w' ? "--write-percent" :
		 "--serial");
	return -EINVAL;
}

static int parse_dirtylog(int argc, char **argv, struct bench_cli *b,
			  char *err, size_t err_len)
{
	static const struct option longopts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "vcpus", required_argument, NULL, 'c' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "write-percent", required_argument, NULL, 'w' },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "bare", no_argument, NULL, OPT_BARE },
		{ "verify", no_argument, NULL, OPT_VERIFY },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, ret;

	memset(b, 0, sizeof(*b));
	b->o.image_path = DEFAULT_IMAGE;
	b->o.wss_bytes = BENCH_DEFAULT_WSS_BYTES;
	b->o.nr_vcpus = 1;
	b->o.iterations = BENCH_DEFAULT_ITERATIONS;
	b->o.write_percent = 100;
	b->o.dirty.backend = DIRTY_BACKEND_MANUAL;
	b->o.dirty.ring_entries = BENCH_RING_ENTRIES;
	b->o.serial.kind = SERIAL_NONE;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+m:c:i:w:h", longopts, NULL)) !=
	       -1) {
		if (opt == 'h')
			return -EAGAIN;
		if (opt == '?') {
			snprintf(err, err_len, "unknown option or missing value: '%s'",
				 argv[optind - 1]);
			return -EINVAL;
		}
		ret = parse_one(b, opt, optarg, err, err_len);
		if (ret < 0)
			return ret;
	}
	if (optind != argc) {
		snprintf(err, err_len, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* --- statistics over the iterations --------------------------------------- */

struct stat4 {
	double mean, median, min, max;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct stat4 stats(const double *v, unsigned int n)
{
	struct stat4 s = { 0, 0, 0, 0 };
	double sorted[BENCH_MAX_ITERATIONS];

	if (!n)
		return s;
	memcpy(sorted, v, n * sizeof(*v));
	qsort(sorted, n, sizeof(*v), cmp_double);
	for (unsigned int i = 0; i < n; i++)
		s.mean += v[i] / n;
	s.median = n % 2 ? sorted[n / 2]
			 : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	s.min = sorted[0];
	s.max = sorted[n - 1];
	return s;
}

enum series {
	S_DIRTY, S_GUEST_PASS, S_GET, S_CLEAR, S_REAPER, S_HARVEST,
	S_PAGES_PER_S, S_HARVEST_PER_GIB, S_NR
};

static const char *const series_key[S_NR] = {
	"dirty_ms", "guest_pass_ms", "get_ms", "clear_ms", "reaper_ms",
	"harvest_ms", "pages_per_s", "harvest_ms_per_gib",
};

static double series_value(const struct bench_iter *it, enum series s)
{
	double harvest_ms = (it->get_ns + it->clear_ns + it->reaper_ns) / 1e6;
	double gib = it->dirty_pages * 4096.0 / GIB;

	switch (s) {
	case S_DIRTY:
		return it->dirty_ns / 1e6;
	case S_GUEST_PASS:
		return it->guest_pass_ns / 1e6;
	case S_GET:
		return it->get_ns / 1e6;
	case S_CLEAR:
		return it->clear_ns / 1e6;
	case S_REAPER:
		return it->reaper_ns / 1e6;
	case S_HARVEST:
		return harvest_ms;
	case S_PAGES_PER_S:
		return it->guest_pass_ns ? it->pages_written * 1e9 /
						   it->guest_pass_ns : 0;
	case S_HARVEST_PER_GIB:
		return gib > 0 ? harvest_ms / gib : 0;
	default:
		return 0;
	}
}

static struct stat4 series_stats(const struct bench_dirtylog_result *r,
				 enum series s, double *samples)
{
	for (unsigned int i = 0; i < r->nr_iters; i++)
		samples[i] = series_value(&r->iters[i], s);
	return stats(samples, r->nr_iters);
}

/* --- output ---------------------------------------------------------------- */

static const char *mode_name(const struct bench_dirtylog_result *r)
{
	return dirty_backend_name(r->backend);
}

static void print_row(const char *name, struct stat4 s)
{
	printf("  %-34s %10.3f %10.3f %10.3f %10.3f\n", name, s.mean, s.median,
	       s.min, s.max);
}

static void print_once(const char *name, uint64_t ns)
{
	printf("  %-34s %10.3f\n", name, ns / 1e6);
}

static void print_table(const struct bench_dirtylog_result *r)
{
	double samples[BENCH_MAX_ITERATIONS];
	uint64_t wss_pages = r->wss_bytes / 4096;
	struct stat4 pps, per_gib;

	printf("kvmtrack bench dirtylog: mode %s%s, %u vCPU%s, working set %llu MiB (%llu pages), guest RAM %llu MiB, write %u%%, %u iterations\n",
	       mode_name(r), r->bare ? " (bare ioctls)" : "", r->nr_vcpus,
	       r->nr_vcpus == 1 ? "" : "s",
	       (unsigned long long)(r->wss_bytes >> 20),
	       (unsigned long long)wss_pages,
	       (unsigned long long)(r->guest_ram_bytes >> 20), r->write_percent,
	       r->nr_iters);
	printf("  split: %s\n\n", bench_dirtylog_split(r->backend, r->bare));
	printf("  %-34s %10s %10s %10s %10s\n", "phase (ms)", "mean", "median",
	       "min", "max");
	print_once("boot to HELLO", r->boot_ns);
	print_once("populate (logging off)", r->populate_ns);
	print_once("enable logging", r->enable_ns);
	print_row("dirty memory (host, per pass)", series_stats(r, S_DIRTY, samples));
	print_row("  guest pass (guest TSC)", series_stats(r, S_GUEST_PASS, samples));
	print_row("get-log", series_stats(r, S_GET, samples));
	print_row("clear-log", series_stats(r, S_CLEAR, samples));
	if (r->backend == DIRTY_BACKEND_RING)
		print_row("ring reaper during the pass", series_stats(r, S_REAPER, samples));
	print_row("harvest (get+clear+reaper)", series_stats(r, S_HARVEST, samples));
	print_once("disable logging", r->disable_ns);
	pps = series_stats(r, S_PAGES_PER_S, samples);
	per_gib = series_stats(r, S_HARVEST_PER_GIB, samples);
	printf("\n  pages/s dirtied while tracked: median %.0f (%.2f GB/s page-equiv.), min %.0f, max %.0f\n",
	       pps.median, pps.median * 4096 / 1e9, pps.min, pps.max);
	printf("  pages/s populating (untracked, first touch): %.0f\n",
	       r->populate_guest_ns ? r->populate_pages * 1e9 / r->populate_guest_ns : 0);
	printf("  harvest cost: median %.3f ms/GiB dirtied (min %.3f, max %.3f)\n",
	       per_gib.median, per_gib.min, per_gib.max);
	printf("\n  correctness (metadata bound %llu pages):\n",
	       (unsigned long long)r->metadata_bound_pages);
	for (unsigned int i = 0; i < r->nr_iters; i++) {
		const struct bench_iter *it = &r->iters[i];

		printf("    iteration %u: written %llu, dirty %llu = %llu in the working set + %llu metadata; missing %llu, unexpected %llu\n",
		       i + 1, (unsigned long long)it->pages_written,
		       (unsigned long long)it->dirty_pages,
		       (unsigned long long)it->dirty_in_wss,
		       (unsigned long long)(it->dirty_pages - it->dirty_in_wss),
		       (unsigned long long)it->missing,
		       (unsigned long long)it->unexpected);
	}
	printf("  result: %s\n", r->correct ? "correct" : "WRONG");
}

static void json_series(struct jw *w, const struct bench_dirtylog_result *r,
			enum series s)
{
	double samples[BENCH_MAX_ITERATIONS];
	struct stat4 st = series_stats(r, s, samples);

	jw_object_begin(w, series_key[s]);
	jw_double(w, "mean", st.mean);
	jw_double(w, "median", st.median);
	jw_double(w, "min", st.min);
	jw_double(w, "max", st.max);
	jw_array_begin(w, "samples");
	for (unsigned int i = 0; i < r->nr_iters; i++)
		jw_double(w, NULL, samples[i]);
	jw_array_end(w);
	jw_object_end(w);
}

static void json_iterations(struct jw *w, const struct bench_dirtylog_result *r)
{
	jw_array_begin(w, "iterations_detail");
	for (unsigned int i = 0; i < r->nr_iters; i++) {
		const struct bench_iter *it = &r->iters[i];

		jw_object_begin(w, NULL);
		jw_u64(w, "pages_written", it->pages_written);
		jw_u64(w, "dirty_pages", it->dirty_pages);
		jw_u64(w, "dirty_in_wss", it->dirty_in_wss);
		jw_u64(w, "metadata_pages", it->dirty_pages - it->dirty_in_wss);
		jw_u64(w, "missing", it->missing);
		jw_u64(w, "unexpected", it->unexpected);
		jw_object_end(w);
	}
	jw_array_end(w);
}

static int print_json(const struct bench_dirtylog_result *r)
{
	struct jw w;
	const char *text;

	jw_init(&w);
	jw_object_begin(&w, NULL);
	jw_string(&w, "benchmark", "dirtylog");
	jw_string(&w, "mode", mode_name(r));
	jw_bool(&w, "bare", r->bare);
	jw_string(&w, "split", bench_dirtylog_split(r->backend, r->bare));
	if (r->backend == DIRTY_BACKEND_RING)
		jw_u64(&w, "ring_entries", r->ring_entries);
	jw_u64(&w, "vcpus", r->nr_vcpus);
	jw_u64(&w, "wss_bytes", r->wss_bytes);
	jw_u64(&w, "wss_pages", r->wss_bytes / 4096);
	jw_u64(&w, "guest_ram_bytes", r->guest_ram_bytes);
	jw_u64(&w, "write_percent", r->write_percent);
	jw_u64(&w, "iterations", r->nr_iters);
	jw_object_begin(&w, "phases_ms");
	jw_double(&w, "boot", r->boot_ns / 1e6);
	jw_double(&w, "populate", r->populate_ns / 1e6);
	jw_double(&w, "enable_logging", r->enable_ns / 1e6);
	jw_double(&w, "disable_logging", r->disable_ns / 1e6);
	jw_object_end(&w);
	jw_u64(&w, "populate_pages", r->populate_pages);
	jw_double(&w, "populate_pages_per_s",
		  r->populate_guest_ns ? r->populate_pages * 1e9 / r->populate_guest_ns : 0);
	jw_object_begin(&w, "per_iteration");
	for (enum series s = 0; s < S_NR; s++)
		json_series(&w, r, s);
	jw_object_end(&w);
	jw_u64(&w, "metadata_bound_pages", r->metadata_bound_pages);
	json_iterations(&w, r);
	jw_bool(&w, "correct", r->correct);
	jw_i64(&w, "guest_exit_status", r->guest_status);
	jw_object_end(&w);
	text = jw_finish(&w);
	if (text)
		printf("%s\n", text);
	jw_free(&w);
	return text ? 0 : -ENOMEM;
}

static int bench_dirtylog(int argc, char **argv)
{
	struct bench_dirtylog_result r;
	struct bench_cli b;
	sigset_t set;
	char err[512] = "";
	int ret;

	ret = parse_dirtylog(argc, argv, &b, err, sizeof(err));
	if (ret == -EAGAIN) {
		fputs(bench_usage, stdout);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "kvmtrack bench dirtylog: %s\n%s", err, bench_usage);
		return 2;
	}
	/* SIGINT/SIGTERM go to the VM's signalfd (vm_run), which stops the
	 * guest; this thread then sees the VM stopped and gives up. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	ret = bench_dirtylog_run(&b.o, &r, err, sizeof(err));
	if (ret < 0) {
		log_err("bench dirtylog: %s", err);
		bench_dirtylog_result_free(&r);
		return 1;
	}
	if (b.json)
		ret = print_json(&r);
	else
		print_table(&r);
	if (err[0])
		log_err("bench dirtylog: %s", err);
	if (!r.correct)
		log_err("bench dirtylog: the dirty log did not match the pages the guest wrote");
	ret = ret < 0 || !r.correct ? 1 : 0;
	bench_dirtylog_result_free(&r);
	return ret;
}

int cmd_bench(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(bench_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "dirtylog"))
		return bench_dirtylog(argc - 1, argv + 1);
	fprintf(stderr, "kvmtrack bench: unknown benchmark '%s'\n%s", argv[1],
		bench_usage);
	return 2;
}
