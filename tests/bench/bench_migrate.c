// SPDX-License-Identifier: MIT
/*
 * Live-migration benchmark: kvmtrack beside QEMU, same guest file, same
 * workload, same downtime limit (300 ms), over loopback TCP.
 *
 * Scenarios (the guest prints "hb N" every 1 ms of guest time):
 *   a  idle 1 GiB guest
 *   b  1 GiB guest writing a 256 MiB working set at random, paced
 *   c  a guest writing faster than a 64 MiB/s bandwidth cap: auto-converge
 *   d  as b, but every write fills the whole page with pseudo-random words
 *      (guest fill=page): b's pages are 99.6% zeros, d's are incompressible
 * Each is run R times per VMM, alternating K Q / Q K, and reported as the
 * median per VMM and the ratio kvmtrack / QEMU of the medians, with the
 * issue's goals marked PASS or MISS.
 *
 * Downtime is reported twice: the VMM's own figure (kvmtrack downtime_us,
 * QEMU query-migrate "downtime") and the one a user sees: the gap between
 * the arrival of the last heartbeat line on the source's stdout and of the
 * first on the destination's (bench_migrate_vmm.c explains the timing).
 * The guest's pages written per second come from its progress lines
 * (progress=100: one every 100 ms), stamped on arrival.
 *
 * Output: bench-results/migrate-<id>-<name>.json per scenario, rows for
 * the combined summary table on stdout, and the side-by-side table with
 * the goals in --md FILE. --kvmtrack-migrate-args "STR" appends STR's
 * words to every `kvmtrack migrate`; STR is in the JSON, the table's
 * kvmtrack column and the summary rows.
 */
#include "tests/bench/bench_migrate.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)

static const char *const vmm_names[NR_VMMS] = { "kvmtrack", "qemu" };
/* "kvmtrack (migrate ARGS)" with --kvmtrack-migrate-args, else empty. */
static char kvmtrack_label[256];

static struct scenario scenarios[] = {
	{ .id = "a", .name = "idle", .title = "(a) idle 1 GiB",
	  .cmdline = "workload=idle heartbeat=1", .mem = "1G",
	  .warmup_ms = 1000, .timeout_s = 60 },
	{ .id = "b", .name = "wss256m", .title = "(b) 1 GiB, 256 MiB random writes",
	  .cmdline = "workload=random wss=256M rate=100000 heartbeat=1 progress=100",
	  .mem = "1G", .warmup_ms = 2000, .rate_pages = 100000, .timeout_s = 60 },
	{ .id = "c", .name = "converge", .title = "(c) 64 MiB/s cap, auto-converge",
	  .cmdline = "workload=random wss=64M rate=49152 fill=page heartbeat=1 progress=100",
	  .mem = "1G", .warmup_ms = 2000, .rate_pages = 49152,
	  .max_bandwidth_bytes = 64ull << 20,
	  .auto_converge = true, .timeout_s = 45, .window_ms = 20000 },
	{ .id = "d", .name = "wss256m-page",
	  .title = "(d) 1 GiB, 256 MiB random writes, whole pages (incompressible)",
	  .cmdline = "workload=random wss=256M rate=100000 fill=page heartbeat=1 progress=100",
	  .mem = "1G", .warmup_ms = 2000, .rate_pages = 100000, .timeout_s = 60 },
	/* The same writer as the Linux migration test: 128 MiB rewritten at
	 * 20000 pages/s (78 MiB/s). "hb N" 100 times a second (the test's
	 * 10 would make any gap under 100 ms look like 100), its buffer
	 * checked once a second as there. */
	{ .id = "l", .name = "linux-writer",
	  .title = "(l) Debian 6.1 Linux, 512 MiB, writer rewriting 128 MiB at 20000 pages/s",
	  .cmdline = "console=ttyS0 kt.then=writer kt.mib=128 kt.rate=20000 kt.every=100 kt.hz=100",
	  .linux_guest = true, .mem = "512M", .warmup_ms = 3000,
	  .rate_pages = 20000, .timeout_s = 120 },
	/* What the Linux tests ping-pong: an idle guest, its heartbeat only
	 * (the writer with 1 MiB at 100 pages/s). */
	{ .id = "i", .name = "linux-idle",
	  .title = "(i) Debian 6.1 Linux, 512 MiB, idle (a heartbeat only)",
	  .cmdline = "console=ttyS0 kt.then=writer kt.mib=1 kt.rate=100 kt.every=100 kt.hz=100",
	  .linux_guest = true, .mem = "512M", .warmup_ms = 3000,
	  .timeout_s = 120 },
	/* Two vCPUs, both busy: a writer on each, 64 MiB at 10000 pages/s. */
	{ .id = "n", .name = "linux-smp",
	  .title = "(n) Debian 6.1 Linux, 512 MiB, 2 vCPUs each running a writer (64 MiB, 10000 pages/s)",
	  .cmdline = "console=ttyS0 kt.then=writer kt.mib=64 kt.rate=10000 kt.every=100 kt.hz=100 kt.writers=2",
	  .linux_guest = true, .mem = "512M", .cpus = "2", .warmup_ms = 3000,
	  .rate_pages = 20000, .timeout_s = 120 },
};
#define NR_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

struct metric {
	const char *key;
	const char *label;
	const char *unit;
	size_t off; /* a double in struct run_result */
	double scale;
	bool completed_only; /* a failed migration has no such figure */
};

#define M(k, l, u, f, sc, c) { k, l, u, offsetof(struct run_result, f), sc, c }
static const struct metric metrics[] = {
	M("total_ms", "total time", "ms", total_ms, 1, true),
	M("downtime_ms", "downtime, the VMM's figure", "ms", downtime_ms, 1, true),
	M("observed_downtime_ms", "downtime observed (serial gap)", "ms",
	  observed_ms, 1, true),
	M("wire_mib", "on the wire", "MiB", wire_bytes, 1 / MIB, true),
	M("passes", "passes (QEMU: dirty syncs)", "", passes, 1, true),
	M("setup_ms", "setup", "ms", setup_ms, 1, true),
	M("throttle_final_pct", "final throttle", "%", throttle_final, 1, false),
	M("throttle_max_pct", "highest throttle seen", "%", throttle_max, 1,
	  false),
	M("guest_rate_before", "guest writes before", "pages/s", rate_before, 1,
	  false),
	M("guest_rate_during", "guest writes during migration", "pages/s",
	  rate_during, 1, false),
	M("guest_rate_last_s", "guest writes, last second on the source",
	  "pages/s", rate_last_s, 1, false),
	M("slowdown_pct", "guest slowdown during migration", "%", slowdown_pct,
	  1, false),
	M("lost_pages", "guest writes lost (before-rate x time - written)",
	  "pages", lost_pages, 1, false),
	M("slowdown_window_pct",
	  "guest slowdown over a fixed window from the start, both sides", "%",
	  slowdown_window_pct, 1, false),
	M("warmup_ms", "warm-up (>= 2 s, until writing at 90% of rate)", "ms",
	  warmup_ms, 1, false),
	M("max_hb_gap_ms", "longest source serial gap while migrating", "ms",
	  max_hb_gap_ms, 1, false),
	/* a migration that did not end still moved its bytes in its time */
	M("wire_mbs", "throughput (on the wire / total time)", "MB/s", wire_mbs,
	  1, false),
};
#undef M
_Static_assert(sizeof(metrics) / sizeof(*metrics) == NR_METRICS,
	       "metrics[] and the MT_ indices of bench_migrate.h");

struct goal {
	char text[96];
	int metric; /* the row it belongs to, -1: its own row */
	bool pass;
};

struct options {
	unsigned int runs, converge_runs;
	const char *only;
	const char *out_dir;
	const char *md_path;
	bool kvmtrack_only; /* --kvmtrack-only: A/B runs of kvmtrack builds */
	bool tls_matrix; /* --tls-matrix: only bench_migrate_tls.c's table */
	unsigned long rate; /* --rate: the paced guests' pages/s; 0: theirs */
	struct bench_env env;
};

/*
 * --rate N: the bundled guest's paced scenarios write N pages a second
 * instead of their own rate. What a guest reaches depends on the VMM
 * (under TCG, kvmtrack's reached 100000 where QEMU's reached 42000), so
 * a rate both reach compares the same work.
 */
static int apply_rate(unsigned long rate)
{
	static char lines[NR_SCENARIOS][256];

	for (unsigned int i = 0; rate && i < NR_SCENARIOS; i++) {
		struct scenario *sc = &scenarios[i];
		const char *at = strstr(sc->cmdline, " rate=");
		size_t head;

		if (sc->linux_guest || !sc->rate_pages || !at)
			continue;
		head = (size_t)(at - sc->cmdline);
		if (snprintf(lines[i], sizeof(lines[i]), "%.*s rate=%lu%s",
			     (int)head, sc->cmdline, rate,
			     at + 1 + strcspn(at + 1, " ")) >=
		    (int)sizeof(lines[i]))
			return -1;
		sc->cmdline = lines[i];
		sc->rate_pages = rate;
	}
	return 0;
}

/* The VMM as the tables name it: with the extra migrate arguments. */
static const char *subject(int vmm)
{
	return vmm == VMM_KVMTRACK && *kvmtrack_label ? kvmtrack_label
						      : vmm_names[vmm];
}

static double field(const struct run_result *r, int m)
{
	return *(const double *)((const char *)r + metrics[m].off) *
	       metrics[m].scale;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct stats compute(const struct vmm_runs *v, int m)
{
	double s[MAX_RUNS];
	struct stats st = { .median = NAN, .min = NAN, .max = NAN };

	for (unsigned int i = 0; i < v->nr; i++) {
		double x = field(&v->r[i], m);

		if (!isnan(x) && (v->r[i].completed || !metrics[m].completed_only))
			s[st.n++] = x;
	}
	if (!st.n)
		return st;
	qsort(s, st.n, sizeof(*s), cmp_double);
	st.min = s[0];
	st.max = s[st.n - 1];
	st.median = st.n & 1 ? s[st.n / 2] : (s[st.n / 2 - 1] + s[st.n / 2]) / 2;
	return st;
}

void runs_stats(struct vmm_runs *v)
{
	for (int m = 0; m < NR_METRICS; m++)
		v->st[m] = compute(v, m);
}

static double ratio(const struct vmm_runs *v, int m)
{
	double k = v[VMM_KVMTRACK].st[m].median, q = v[VMM_QEMU].st[m].median;

	return q > 0 && !isnan(k) ? k / q : NAN;
}

void loadavg(char *buf, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");

	if (!f || !fgets(buf, (int)len, f))
		snprintf(buf, len, "unknown");
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	/* keep the three averages only */
	for (int spaces = 0, i = 0; buf[i]; i++)
		if (buf[i] == ' ' && ++spaces == 3)
			buf[i] = '\0';
}

/* --- goals ------------------------------------------------------------------ */

static int goal_add(struct goal *g, int n, int metric, bool pass,
		    const char *text)
{
	g[n].metric = metric;
	g[n].pass = pass;
	snprintf(g[n].text, sizeof(g[n].text), "%s", text);
	return n + 1;
}

/* The goals; a missing figure is a MISS. */
static int goals(const struct scenario *sc, const struct vmm_runs *v,
		 struct goal *g)
{
	const struct vmm_runs *k = &v[VMM_KVMTRACK], *q = &v[VMM_QEMU];
	double obs = k->st[MT_OBSERVED].median;
	int n = 0;

	switch (sc->id[0]) {
	case 'a':
		n = goal_add(g, n, MT_TOTAL, ratio(v, MT_TOTAL) <= 0.3,
			     "<= 0.3x QEMU");
		n = goal_add(g, n, MT_OBSERVED,
			     ratio(v, MT_OBSERVED) <= 0.5 && obs < 2.0,
			     "<= 0.5x QEMU and < 2 ms");
		break;
	case 'b':
	case 'd':
		n = goal_add(g, n, MT_TOTAL, ratio(v, MT_TOTAL) <= 0.5,
			     "<= 0.5x QEMU");
		n = goal_add(g, n, MT_OBSERVED, ratio(v, MT_OBSERVED) <= 0.5,
			     "<= 0.5x QEMU");
		break;
	case 'c':
		n = goal_add(g, n, -1, k->nr && k->nr_completed == k->nr,
			     "kvmtrack converges (every run)");
		/*
		 * "Slowed less": the guest's writes over the same 20 s from
		 * the start, source then destination, against its rate
		 * before. The average over each VMM's own migration time
		 * would reward stretching the migration: a slowly rising
		 * throttle lowers that average while the guest loses more
		 * writes in all.
		 */
		n = goal_add(g, n, MT_WINDOW,
			     k->st[MT_WINDOW].median < q->st[MT_WINDOW].median,
			     "kvmtrack slows the guest less than QEMU");
		break;
	}
	return n;
}

/* --- output ----------------------------------------------------------------- */

static bool shown(const struct scenario *sc, const struct vmm_runs *v, int m)
{
	if ((m == MT_THROTTLE || m == MT_THROTTLE_MAX) && !sc->auto_converge)
		return false;
	if (m == MT_WINDOW && !sc->window_ms)
		return false;
	if (m >= MT_BEFORE && m <= MT_WARMUP)
		return v[VMM_KVMTRACK].st[MT_BEFORE].median > 0 ||
		       v[VMM_QEMU].st[MT_BEFORE].median > 0;
	return v[VMM_KVMTRACK].st[m].n || v[VMM_QEMU].st[m].n;
}

static void json_num(FILE *f, const char *key, double x, bool comma)
{
	if (isnan(x))
		fprintf(f, "\"%s\": null%s", key, comma ? ", " : "");
	else
		fprintf(f, "\"%s\": %.3f%s", key, x, comma ? ", " : "");
}

/* s as a JSON string: quotes and backslashes escaped, bytes outside
 * printable ASCII dropped. */
void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fputc('\\', f);
		if (c >= ' ' && c < 0x7f)
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_run(FILE *f, const struct run_result *r)
{
	fprintf(f, "        {\"status\": \"%s\", \"completed\": %s, ",
		r->status, r->completed ? "true" : "false");
	for (int m = 0; m < NR_METRICS; m++)
		json_num(f, metrics[m].key, field(r, m), true);
	if (!isnan(r->bd_us[0]))
		fprintf(f, "\"downtime_breakdown_us\": {\"stop\": %.0f, "
			   "\"final_pages\": %.0f, \"state\": %.0f, \"digest\": %.0f, "
			   "\"destination\": %.0f}, \"switchover\": \"%s\", ",
			r->bd_us[0], r->bd_us[1], r->bd_us[2], r->bd_us[3],
			r->bd_us[4], r->switchover);
	fprintf(f, "\"last_source_hb\": %ld, \"first_destination_hb\": %ld, ",
		r->last_src_hb, r->first_dst_hb);
	fprintf(f, "\"first_destination_line\": ");
	json_string(f, r->first_dst_line);
	fprintf(f, "}");
}

void json_vmm(FILE *f, const struct vmm_runs *v, const char *name, bool last)
{
	fprintf(f, "    \"%s\": {\n      \"runs\": %u, \"completed\": %u,\n",
		name, v->nr, v->nr_completed);
	fprintf(f, "      \"median\": {");
	for (int m = 0; m < NR_METRICS; m++)
		json_num(f, metrics[m].key, v->st[m].median, m < NR_METRICS - 1);
	fprintf(f, "},\n      \"min\": {");
	for (int m = 0; m < NR_METRICS; m++)
		json_num(f, metrics[m].key, v->st[m].min, m < NR_METRICS - 1);
	fprintf(f, "},\n      \"max\": {");
	for (int m = 0; m < NR_METRICS; m++)
		json_num(f, metrics[m].key, v->st[m].max, m < NR_METRICS - 1);
	fprintf(f, "},\n      \"samples\": [\n");
	for (unsigned int i = 0; i < v->nr; i++) {
		json_run(f, &v->r[i]);
		fprintf(f, "%s\n", i + 1 < v->nr ? "," : "");
	}
	fprintf(f, "      ]\n    }%s\n", last ? "" : ",");
}

static int write_json(const struct options *o, const struct scenario *sc,
		      const struct vmm_runs *v, const struct goal *g, int nr_goals,
		      const char *load0, const char *load1)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/migrate-%s-%s.json", o->out_dir, sc->id,
		 sc->name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return -1;
	}
	fprintf(f, "{\n  \"benchmark\": \"migrate\",\n  \"scenario\": \"%s\",\n"
		   "  \"title\": \"%s\",\n  \"guest_cmdline\": \"%s\",\n",
		sc->id, sc->title, sc->cmdline);
	fprintf(f, "  \"kvmtrack_migrate_args\": ");
	json_string(f, o->env.migrate_args ? o->env.migrate_args : "");
	fprintf(f, ",\n  \"tls\": \"%s\",\n  \"kvmtrack_tls_userspace\": %s",
		tls_name(o->env.tls), o->env.tls_userspace ? "true" : "false");
	fprintf(f, ",\n  \"mem\": \"%s\",\n  \"downtime_limit_ms\": 300,\n"
		   "  \"max_bandwidth_bytes\": %llu,\n  \"auto_converge\": %s,\n"
		   "  \"warmup_ms\": %u,\n  \"order\": \"alternating KQ QK ...\",\n"
		   "  \"loadavg_before\": \"%s\",\n  \"loadavg_after\": \"%s\",\n"
		   "  \"vmms\": {\n",
		sc->mem, (unsigned long long)sc->max_bandwidth_bytes,
		sc->auto_converge ? "true" : "false", sc->warmup_ms, load0, load1);
	json_vmm(f, &v[VMM_KVMTRACK], "kvmtrack", false);
	json_vmm(f, &v[VMM_QEMU], "qemu", true);
	fprintf(f, "  },\n  \"ratio_kvmtrack_over_qemu\": {");
	for (int m = 0; m < NR_METRICS; m++)
		json_num(f, metrics[m].key, ratio(v, m), m < NR_METRICS - 1);
	fprintf(f, "},\n  \"goals\": [");
	for (int i = 0; i < nr_goals; i++)
		fprintf(f, "%s{\"metric\": \"%s\", \"goal\": \"%s\", \"result\": \"%s\"}",
			i ? ", " : "", g[i].metric >= 0 ? metrics[g[i].metric].key
							: "converged",
			g[i].text, g[i].pass ? "PASS" : "MISS");
	fprintf(f, "]\n}\n");
	return fclose(f) ? -1 : 0;
}

void fmt(char *buf, size_t len, double x)
{
	if (isnan(x))
		snprintf(buf, len, "n/a");
	else if (fabs(x) >= 100)
		snprintf(buf, len, "%.0f", x);
	else
		snprintf(buf, len, "%.2f", x);
}

/* Side by side: | scenario | metric | kvmtrack | QEMU | K/Q | goal | result | */
static void md_rows(FILE *f, const struct scenario *sc,
		    const struct vmm_runs *v, const struct goal *g, int nr_goals)
{
	char k[32], q[32], r[32];

	fprintf(f, "| %s | completed | %u/%u | %u/%u | | |", sc->title,
		v[0].nr_completed, v[0].nr, v[1].nr_completed, v[1].nr);
	for (int i = 0; i < nr_goals; i++)
		if (g[i].metric < 0)
			fprintf(f, " %s: **%s** |", g[i].text,
				g[i].pass ? "PASS" : "MISS");
	fprintf(f, "\n");
	for (int m = 0; m < NR_METRICS; m++) {
		const struct goal *mg = NULL;

		if (!shown(sc, v, m))
			continue;
		for (int i = 0; i < nr_goals; i++)
			if (g[i].metric == m)
				mg = &g[i];
		fmt(k, sizeof(k), v[VMM_KVMTRACK].st[m].median);
		fmt(q, sizeof(q), v[VMM_QEMU].st[m].median);
		snprintf(r, sizeof(r), "%.2fx", ratio(v, m));
		if (isnan(ratio(v, m)) || m == MT_SLOWDOWN)
			snprintf(r, sizeof(r), " ");
		fprintf(f, "| %s | %s%s%s | %s | %s | %s | %s | %s |\n", sc->id,
			metrics[m].label, *metrics[m].unit ? ", " : "",
			metrics[m].unit, k, q, r, mg ? mg->text : "",
			mg ? (mg->pass ? "**PASS**" : "**MISS**") : "");
	}
}

/* Rows of the combined table: | benchmark | subject | median | min | max | unit | note | */
static void summary_rows(const struct scenario *sc, const struct vmm_runs *v)
{
	static const int headline[] = { MT_TOTAL, MT_OBSERVED, MT_WIRE };

	for (unsigned int h = 0; h < sizeof(headline) / sizeof(*headline); h++) {
		int m = headline[h];

		for (int i = 0; i < NR_VMMS; i++)
			printf("| migrate %s: %s | %s | %.2f | %.2f | %.2f | %s | %u/%u completed |\n",
			       sc->title, metrics[m].label, subject(i),
			       v[i].st[m].median, v[i].st[m].min, v[i].st[m].max,
			       metrics[m].unit, v[i].nr_completed, v[i].nr);
		printf("| migrate %s: %s | kvmtrack / QEMU | %.2fx | | | ratio of medians | alternating runs |\n",
		       sc->title, metrics[m].label, ratio(v, m));
	}
}

/* --- running ---------------------------------------------------------------- */

static void run_scenario(struct options *o, const struct scenario *sc,
			 struct vmm_runs *v)
{
	for (unsigned int i = 0; i < sc->runs; i++) {
		enum vmm_id first = i & 1 ? VMM_QEMU : VMM_KVMTRACK;

		for (int j = 0; j < NR_VMMS; j++) {
			enum vmm_id id = j ? !first : first;
			struct run_result *r;

			if (o->kvmtrack_only && id != VMM_KVMTRACK)
				continue;
			r = &v[id].r[v[id].nr++];
			o->env.port++;
			migrate_run(&o->env, sc, id, i + 1, r);
			v[id].nr_ran += r->ran;
			v[id].nr_completed += r->completed;
			fprintf(stderr,
				"bench-migrate: %s run %u %-8s %-10s total %7.1f ms, downtime %7.3f ms (observed %7.3f), %7.1f MiB, throttle %.0f%%, guest %.0f -> %.0f pages/s\n",
				sc->id, i + 1, vmm_names[id], r->status, r->total_ms,
				r->downtime_ms, r->observed_ms, r->wire_bytes / MIB,
				r->throttle_final, r->rate_before, r->rate_during);
			if (!isnan(r->bd_us[0]))
				fprintf(stderr,
					"bench-migrate:   downtime us: stop %.0f, final pages %.0f, state %.0f, digest %.0f, destination %.0f; switch-over: %s\n",
					r->bd_us[0], r->bd_us[1], r->bd_us[2],
					r->bd_us[3], r->bd_us[4], r->switchover);
		}
	}
	for (int id = 0; id < NR_VMMS; id++)
		runs_stats(&v[id]);
}

/*
 * The timestamps are only as good as the harness's wake-ups: on a 2-core
 * machine with both guests' vCPUs spinning (and other users), a normal
 * process can wait milliseconds to run after poll() says a line is there.
 * So the harness alone runs SCHED_FIFO; it sleeps in poll() almost all the
 * time, and its children go back to SCHED_OTHER (SCHED_RESET_ON_FORK).
 */
static const char *realtime(void)
{
	struct sched_param sp = { .sched_priority = 10 };

	if (!sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
		return "SCHED_FIFO 10";
	fprintf(stderr, "bench-migrate: SCHED_FIFO: %s; using nice -10\n",
		strerror(errno));
	return setpriority(PRIO_PROCESS, 0, -10) ? "normal" : "nice -10";
}

static void on_signal(int sig)
{
	bench_kill_children();
	_exit(128 + sig);
}

static const struct scenario *scenario(const char *id)
{
	for (size_t i = 0; i < NR_SCENARIOS; i++)
		if (!strcmp(scenarios[i].id, id))
			return &scenarios[i];
	abort();
}

/* Whether a scenario in LIST boots Linux (and needs its kernel). */
static bool wants_linux(const char *list)
{
	for (size_t i = 0; i < NR_SCENARIOS; i++)
		if (scenarios[i].linux_guest && strchr(list, scenarios[i].id[0]))
			return true;
	return false;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: bench-migrate [options]\n"
		"  -n, --runs N            runs per VMM for (a), (b) and (d) (default 5)\n"
		"      --converge-runs N   runs per VMM for (c) (default 3)\n"
		"      --scenarios LIST    any of a, b, c, d, i, l, n (default abc)\n"
		"      --kvmtrack PATH     (default ./kvmtrack)\n"
		"      --qemu PATH         (default qemu-system-x86_64)\n"
		"      --guest PATH        (default guest/kvmtrack-guest.elf)\n"
		"      --linux-kernel PATH, --linux-initrd PATH\n"
		"                          Debian's kernel and the Linux tests'\n"
		"                          initramfs, for scenarios (i), (l) and (n)\n"
		"      --out DIR           JSON files and logs/ (default bench-results)\n"
		"      --md PATH           write the side-by-side table here\n"
		"      --kvmtrack-only     skip QEMU (to compare kvmtrack builds)\n"
		"      --kvmtrack-migrate-args STR\n"
		"                          append STR's words (split at blanks) to\n"
		"                          every `kvmtrack migrate`, e.g. \"--verify sent\"\n"
		"      --tls none|psk|x509 the migration channel of both VMMs (default none)\n"
		"      --tls-dir DIR       tests/tls/mkcreds.sh's output (default tests/tls/creds)\n"
		"      --tls-userspace     kvmtrack's TLS records by GnuTLS in the process,\n"
		"                          not by the kernel (KVMTRACK_X_TLS_USERSPACE=1)\n"
		"      --rate N            the guest of (b), (c) and (d) writes N pages/s\n"
		"                          (a rate both VMMs' guests reach; default theirs)\n"
		"      --tls-matrix        instead of the scenarios: (d) migrated plain and\n"
		"                          with TLS by both VMMs, N rounds (bench_migrate_tls.c)\n");
}

/* --kvmtrack-migrate-args: the words for argv, and the tables' label. */
static int split_migrate_args(struct options *o)
{
	static char *words[MAX_MIGRATE_ARGS];
	char *copy = strdup(o->env.migrate_args), *save = NULL, *w;
	int n = 0;

	if (!copy)
		return -1;
	for (w = strtok_r(copy, " \t\n", &save); w;
	     w = strtok_r(NULL, " \t\n", &save)) {
		if (n == MAX_MIGRATE_ARGS) {
			fprintf(stderr, "bench-migrate: --kvmtrack-migrate-args: more than %d words\n",
				MAX_MIGRATE_ARGS);
			return -1;
		}
		words[n++] = w;
	}
	o->env.migrate_argv = words;
	o->env.nr_migrate_argv = n;
	return 0;
}

/* "kvmtrack (migrate ARGS, TLS MODE)" where either is given. */
static void make_label(const struct bench_env *env)
{
	bool args = env->nr_migrate_argv > 0, tls = env->tls != TLS_NONE;

	if (args || tls)
		snprintf(kvmtrack_label, sizeof(kvmtrack_label),
			 "kvmtrack (%s%s%s%s%s%s)", args ? "migrate " : "",
			 args ? env->migrate_args : "", args && tls ? ", " : "",
			 tls ? "TLS " : "", tls ? tls_name(env->tls) : "",
			 tls && env->tls_userspace ? ", GnuTLS records" : "");
}

/* mkdir -p: path and every missing parent. */
static int mkdir_p(const char *path)
{
	char buf[400], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		fprintf(stderr, "bench-migrate: %s: path too long\n", path);
		return -1;
	}
	for (p = strchr(buf + 1, '/');; p = strchr(p + 1, '/')) {
		if (p)
			*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST) {
			perror(buf);
			return -1;
		}
		if (!p)
			return 0;
		*p = '/';
	}
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "runs", required_argument, NULL, 'n' },
		{ "converge-runs", required_argument, NULL, 'c' },
		{ "scenarios", required_argument, NULL, 's' },
		{ "kvmtrack", required_argument, NULL, 'k' },
		{ "qemu", required_argument, NULL, 'q' },
		{ "guest", required_argument, NULL, 'g' },
		{ "linux-kernel", required_argument, NULL, 'L' },
		{ "linux-initrd", required_argument, NULL, 'I' },
		{ "out", required_argument, NULL, 'o' },
		{ "md", required_argument, NULL, 'm' },
		{ "kvmtrack-migrate-args", required_argument, NULL, 'a' },
		{ "kvmtrack-only", no_argument, NULL, 'K' },
		{ "tls", required_argument, NULL, 'T' },
		{ "tls-dir", required_argument, NULL, 'D' },
		{ "tls-userspace", no_argument, NULL, 'U' },
		{ "tls-matrix", no_argument, NULL, 'X' },
		{ "rate", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o->runs = strtoul(optarg, NULL, 0); break;
		case 'c': o->converge_runs = strtoul(optarg, NULL, 0); break;
		case 's': o->only = optarg; break;
		case 'k': o->env.kvmtrack = optarg; break;
		case 'q': o->env.qemu = optarg; break;
		case 'g': o->env.guest = optarg; break;
		case 'L': o->env.linux_kernel = optarg; break;
		case 'I': o->env.linux_initrd = optarg; break;
		case 'o': o->out_dir = optarg; break;
		case 'm': o->md_path = optarg; break;
		case 'a': o->env.migrate_args = optarg; break;
		case 'K': o->kvmtrack_only = true; break;
		case 'T': o->env.tls = tls_parse(optarg); break;
		case 'D': o->env.tls_dir = optarg; break;
		case 'U': o->env.tls_userspace = true; break;
		case 'X': o->tls_matrix = true; break;
		case 'R': o->rate = strtoul(optarg, NULL, 0); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (!o->runs || o->runs > MAX_RUNS || !o->converge_runs ||
	    o->converge_runs > MAX_RUNS || optind != argc || (int)o->env.tls < 0 ||
	    (!o->tls_matrix && wants_linux(o->only) &&
	     (!o->env.linux_kernel || !o->env.linux_initrd))) {
		usage(stderr);
		return -1;
	}
	if (o->env.migrate_args && split_migrate_args(o))
		return -1;
	if (apply_rate(o->rate))
		return -1;
	make_label(&o->env);
	return 0;
}

int main(int argc, char **argv)
{
	static struct vmm_runs v[NR_SCENARIOS][NR_VMMS];
	struct options o = {
		.runs = 5, .converge_runs = 3, .only = "abc",
		.out_dir = "bench-results",
		.env = { .kvmtrack = "./kvmtrack", .qemu = "qemu-system-x86_64",
			 .guest = "guest/kvmtrack-guest.elf",
			 .tls_dir = "tests/tls/creds" },
	};
	char log_dir[400], load0[64], load1[64];
	FILE *md = NULL;
	int failed = 0;

	if (parse_options(argc, argv, &o))
		return 2;
	snprintf(log_dir, sizeof(log_dir), "%s/logs", o.out_dir);
	o.env.log_dir = log_dir;
	if (mkdir_p(log_dir))
		return 1;
	o.env.port = 31000 + (getpid() * 13) % 20000;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if ((o.env.tls != TLS_NONE || o.tls_matrix) && tls_prepare(&o.env, log_dir))
		return 1;
	fprintf(stderr, "bench-migrate: harness priority: %s\n", realtime());
	if (o.md_path && !(md = fopen(o.md_path, "w"))) {
		perror(o.md_path);
		return 1;
	}
	if (o.tls_matrix) {
		/* (d): every page written is random, so all of it crosses */
		failed = tls_matrix(&o.env, scenario("d"), o.runs, o.out_dir, md);
		if (md && fclose(md))
			failed = 1;
		return failed ? 1 : 0;
	}
	if (md)
		fprintf(md, "| scenario | metric | %s | QEMU | kvmtrack / QEMU | goal | result |\n"
			    "|---|---|---:|---:|---:|---|---|\n",
			subject(VMM_KVMTRACK));
	for (unsigned int s = 0; s < NR_SCENARIOS; s++) {
		struct scenario *sc = &scenarios[s];
		struct goal g[8];
		int nr_goals;

		if (!strchr(o.only, sc->id[0]))
			continue;
		sc->runs = sc->auto_converge ? o.converge_runs : o.runs;
		loadavg(load0, sizeof(load0));
		fprintf(stderr, "bench-migrate: %s, guest \"%s\", %u runs per VMM, load %s%s%s\n",
			sc->title, sc->cmdline, sc->runs, load0,
			*kvmtrack_label ? ", " : "", kvmtrack_label);
		run_scenario(&o, sc, v[s]);
		loadavg(load1, sizeof(load1));
		nr_goals = goals(sc, v[s], g);
		failed |= write_json(&o, sc, v[s], g, nr_goals, load0, load1);
		/* Not converging is a result; not running at all is not. */
		failed |= !v[s][VMM_KVMTRACK].nr_ran || !v[s][VMM_QEMU].nr_ran;
		if (md)
			md_rows(md, sc, v[s], g, nr_goals);
		summary_rows(sc, v[s]);
	}
	if (md && fclose(md))
		failed = 1;
	return failed ? 1 : 0;
}
