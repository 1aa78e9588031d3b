// SPDX-License-Identifier: MIT
/*
 * `kvmtrack dirtyrate` against a real `kvmtrack run --control`: the
 * measured rate against the guest's own ground truth (bitmap and ring
 * modes, per vCPU), sample mode within the error it states, the working-set
 * curve and its files, logging switched back off (or left on), and the
 * errors. The guest sweeps at a fixed rate over a working set it never
 * wraps around during a test, so every page it writes is a distinct page
 * and its reports (testdev, via "stats") count exactly what the dirty log
 * should see.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/client.h"
#include "lib/json/json.h"
#include "tests/helpers.h"

/*
 * pages/s, shared by the writing vCPUs; 512 MiB lasts 26 s at this rate.
 * Each first write of a page under dirty logging is a write-protection
 * fault, which the test VM's nested kvm_amd (tests/vm/) handles at ~15-20k
 * a second: the rate must be one the guest keeps, or its count and the
 * log's drift apart between their windows. The tests check that it kept
 * it.
 */
#define SWEEP_RATE 5000
#define STR(x) #x
#define XSTR(x) STR(x)
#define SWEEP_CMDLINE "workload=sweep wss=512M rate=" XSTR(SWEEP_RATE) " report=10"

/* The guest's own pages that each 10 ms ring reaper pass finds dirty
 * again, per vCPU: at most a dozen a pass. */
#define RING_OWN_PAGES_PER_S (12 * 100)

/* The guest's rate over the measurement was the fixed one it was given. */
static void expect_fixed_rate(double truth_pages_per_s)
{
	cr_assert_gt(truth_pages_per_s, SWEEP_RATE * 0.95,
		     "the guest fell behind its fixed rate (%.0f of %u pages/s): the premise of this test does not hold",
		     truth_pages_per_s, SWEEP_RATE);
}

struct guest {
	struct bg_proc proc;
	const char *sock;
	uint64_t tsc_khz;
};

static void start_guest(struct guest *g, const char *sock, const char *mem,
			const char *cpus, const char *dirty_log,
			const char *cmdline, const char *started)
{
	const char *argv[16] = { KVMTRACK_BIN, "run", "-m", mem, "-c", cpus,
				 "--control", sock, "--cmdline", cmdline };
	int argc = 10;
	char *out, *p;

	if (dirty_log) {
		argv[argc++] = "--dirty-log";
		argv[argc++] = dirty_log;
	}
	argv[argc++] = GUEST_ELF;
	argv[argc] = NULL;
	g->sock = sock;
	unlink(sock);
	cr_assert_eq(bg_start(argv, &g->proc), 0);
	cr_assert(wait_for_socket(sock, 10000), "no control socket %s", sock);
	cr_assert(bg_wait_output(&g->proc, started, 20000), "guest never said '%s'",
		  started);
	out = read_file(g->proc.out_path, NULL);
	p = out ? strstr(out, "kvmtrack-guest: tsc ") : NULL;
	g->tsc_khz = p ? strtoull(p + strlen("kvmtrack-guest: tsc "), NULL, 10)
		       : 0;
	free(out);
	cr_assert_gt(g->tsc_khz, 1000, "the guest prints its TSC frequency");
}

static void stop_guest(struct guest *g)
{
	struct json_value *v = NULL;
	struct proc_result r;
	char err[256];

	cr_expect_eq(control_call(g->sock, "quit", NULL, &v, err, sizeof(err)),
		     0, "%s", err);
	json_free(v);
	bg_wait(&g->proc, 20, &r);
	cr_expect_eq(r.status, 0, "%s", r.err);
	proc_result_free(&r);
}

static struct json_value *ctl(const struct guest *g, const char *cmd,
			      const char *args)
{
	struct json_value *v = NULL;
	char err[256];

	cr_assert_eq(control_call(g->sock, cmd, args, &v, err, sizeof(err)), 0,
		     "%s: %s", cmd, err);
	return v;
}

/* Per writing vCPU: distinct pages reported so far and when. */
struct truth {
	unsigned int nr;
	double pages[16], tsc_end[16];
};

static void read_truth(const struct guest *g, struct truth *t)
{
	struct json_value *stats = ctl(g, "stats", NULL);
	const struct json_value *vcpus =
		json_get(json_get(json_get(stats, "devices"), "testdev"),
			 "vcpus");

	cr_assert(vcpus && vcpus->nr_items > 0 && vcpus->nr_items <= 16);
	t->nr = (unsigned int)vcpus->nr_items;
	for (unsigned int i = 0; i < t->nr; i++) {
		t->pages[i] = json_num(vcpus->items[i], "sum_interval_distinct_pages");
		t->tsc_end[i] = json_num(vcpus->items[i], "tsc_end");
	}
	json_free(stats);
}

/* The guest's own rate between two readings, summed over its writers. */
static double truth_rate(const struct guest *g, const struct truth *a,
			 const struct truth *b, double *per_vcpu)
{
	double sum = 0;

	cr_assert_eq(a->nr, b->nr);
	for (unsigned int i = 0; i < a->nr; i++) {
		double secs = (b->tsc_end[i] - a->tsc_end[i]) /
			      ((double)g->tsc_khz * 1000);

		cr_assert_gt(secs, 0.3, "the guest kept reporting");
		per_vcpu[i] = (b->pages[i] - a->pages[i]) / secs;
		sum += per_vcpu[i];
	}
	return sum;
}

/* Working set as the guest's HELLO states it, as a --range argument. */
static void wss_range(const struct guest *g, char *buf, size_t len)
{
	struct json_value *stats = ctl(g, "stats", NULL);
	const struct json_value *hello = json_get(
		json_get(json_get(stats, "devices"), "testdev"), "hello");

	snprintf(buf, len, "0x%" PRIx64 ",%" PRIu64,
		 (uint64_t)json_num(hello, "wss_base_gpa"),
		 (uint64_t)json_num(hello, "wss_bytes"));
	json_free(stats);
}

static double rel_err(double measured, double truth)
{
	return fabs(measured - truth) / truth;
}

/*
 * Measures with `mode` over 4 s, returns the reply; prints the accuracy.
 * The truth's window holds the measurement's and a little more on each
 * side (the dirtyrate process starting and ending): 4 s keeps what the
 * guest does in those edges small against 2%. Logging is
 * switched on first and the guest given 200 ms: switching it on stalls the
 * guest (for tens of ms on a nested KVM), and its pacing then makes up at
 * most 20 ms of backlog, which would put a burst inside the measurement
 * and a gap inside the truth's longer window. The control socket serves
 * one command at a time, so the truth cannot be read during the window.
 */
static struct json_value *measure_against_truth(const struct guest *g,
						const char *mode,
						double *truth,
						double *per_vcpu)
{
	struct truth a, b;
	struct json_value *v;
	char range[64];

	wss_range(g, range, sizeof(range));
	json_free(ctl(g, "dirty-log", "{\"enable\":true}"));
	usleep(200000);
	read_truth(g, &a);
	v = dirtyrate_json(g->sock, (const char *const[]){
		"--mode", mode, "--period", "4s", "--range", range, "--json",
		NULL });
	read_truth(g, &b);
	json_free(ctl(g, "dirty-log", "{\"enable\":false}"));
	*truth = truth_rate(g, &a, &b, per_vcpu);
	cr_log_info("%s: %.0f pages/s (working set %.0f) vs guest %.0f: %.2f%% (%.2f%%)",
		    mode, json_num(v, "pages_per_s"),
		    json_num(json_get(v, "range"), "pages_per_s"), *truth,
		    100 * rel_err(json_num(v, "pages_per_s"), *truth),
		    100 * rel_err(json_num(json_get(v, "range"), "pages_per_s"),
				  *truth));
	return v;
}

Test(dirtyrate, bitmap_mode_matches_the_guests_count_and_draws_the_wss)
{
	struct guest g;
	struct json_value *v;
	struct truth a, b;
	double truth, per_vcpu[16], prev = 0;
	const struct json_value *wss;
	char *svg;

	start_guest(&g, "/tmp/kt-dr-bitmap.sock", "1G", "1", NULL,
		    SWEEP_CMDLINE, "workload sweep start");
	usleep(1000000); /* past the guest's slow start */
	v = measure_against_truth(&g, "bitmap", &truth, per_vcpu);
	expect_fixed_rate(truth);
	cr_expect_lt(rel_err(json_num(v, "pages_per_s"), truth), 0.02);
	cr_expect_lt(rel_err(json_num(json_get(v, "range"), "pages_per_s"), truth),
		     0.02);
	cr_expect_eq(json_get(v, "vcpus"), NULL, "per vCPU only with the ring");
	json_free(v);

	unlink("/tmp/kt-dr-wss.svg");
	read_truth(&g, &a);
	v = dirtyrate_json(g.sock, (const char *const[]){
		"--wss", "--wss-max", "500ms", "--svg", "/tmp/kt-dr-wss.svg",
		"--json", NULL });
	read_truth(&g, &b);
	truth = truth_rate(&g, &a, &b, per_vcpu);
	expect_fixed_rate(truth);
	wss = json_get(v, "wss");
	cr_assert(wss && wss->nr_items == 6, "10 ms to 500 ms");
	for (size_t i = 0; i < wss->nr_items; i++) {
		double pages = json_num(wss->items[i], "dirty_pages");

		cr_expect_geq(pages, prev, "the working set only grows");
		prev = pages;
	}
	/* Over half a second the reports' 10 ms granularity weighs more. */
	cr_expect_lt(rel_err(prev / 0.5, truth), 0.05,
		     "500 ms of a sweep: %.0f pages, guest %.0f pages/s", prev,
		     truth);
	svg = read_file("/tmp/kt-dr-wss.svg", NULL);
	cr_assert_not_null(svg);
	cr_expect(strstr(svg, "</svg>") && strstr(svg, ">500 ms<"));
	free(svg);
	unlink("/tmp/kt-dr-wss.svg");
	json_free(v);
	stop_guest(&g);
}

Test(dirtyrate, ring_mode_matches_and_splits_per_vcpu)
{
	struct guest g;
	struct json_value *v;
	const struct json_value *vcpus;
	double truth, per_vcpu[16];

	start_guest(&g, "/tmp/kt-dr-ring.sock", "1G", "2", "ring",
		    SWEEP_CMDLINE " vcpus=2", "workload sweep start");
	usleep(1000000);
	v = measure_against_truth(&g, "ring", &truth, per_vcpu);
	expect_fixed_rate(truth);
	cr_expect_lt(rel_err(json_num(v, "pages_per_s"), truth), 0.02);
	cr_expect_lt(rel_err(json_num(json_get(v, "range"), "pages_per_s"), truth),
		     0.02);
	vcpus = json_get(v, "vcpus");
	cr_assert(vcpus && vcpus->nr_items == 2);
	for (unsigned int i = 0; i < 2; i++) {
		double rate = json_num(vcpus->items[i], "pages_per_s");

		cr_log_info("ring: vCPU %u %.0f pages/s (share %.3f) vs guest %.0f",
			    i, rate, json_num(vcpus->items[i], "share"), per_vcpu[i]);
		cr_expect_float_eq(json_num(vcpus->items[i], "share"), 0.5, 0.05);
		/* A ring entry is a page dirtied since the last reset: the
		 * guest's own pages (stamp table, interval bitmap, stack),
		 * re-dirtied after each 10 ms reaper pass, count again. So the
		 * entries never fall short of the distinct pages the vCPU
		 * wrote, and exceed them by those few pages a pass. */
		cr_expect_gt(rate, per_vcpu[i] * 0.98);
		cr_expect_lt(rate, per_vcpu[i] + RING_OWN_PAGES_PER_S);
	}
	json_free(v);
	stop_guest(&g);
}

/*
 * Waits for the guest's report of interval `seq` or a later one (one
 * writing vCPU) and returns the stats holding it, in *vcpu. Bounded by the
 * guest's own reports, not by a guess at its speed: 60 s without one is a
 * guest that stopped.
 */
static struct json_value *report_from(const struct guest *g, double seq,
				      const struct json_value **vcpu)
{
	for (int tries = 0; tries < 600; tries++) {
		struct json_value *stats = ctl(g, "stats", NULL);
		const struct json_value *vcpus = json_get(
			json_get(json_get(stats, "devices"), "testdev"),
			"vcpus");

		if (vcpus && vcpus->nr_items > 0 &&
		    json_num(vcpus->items[0], "seq") >= seq) {
			*vcpu = vcpus->items[0];
			return stats;
		}
		json_free(stats);
		usleep(100000);
	}
	cr_assert_fail("the guest reported no interval %.0f in 60 s", seq);
	return NULL;
}

/*
 * A quarter of RAM rewritten many times a second (random writes over
 * 64 MiB of 256 MiB): the pages that change in a 1 s window are the 16384
 * working-set pages plus a few dozen of the guest's own (stamp table,
 * stacks), as long as the guest touches every working-set page within a
 * second. Its 1 s reports say whether it does: the test measures after the
 * first and checks the next, in which the measurement ran. A fixed seed
 * makes the sample, and so the test, repeatable.
 */
Test(dirtyrate, sample_mode_holds_the_truth_within_its_stated_error)
{
	const double wss_pages = 16384, others = 64;
	struct guest g;
	struct json_value *v, *stats;
	const struct json_value *s, *vcpu;
	double seq;

	start_guest(&g, "/tmp/kt-dr-sample.sock", "256M", "1", NULL,
		    "workload=random wss=64M report=1000",
		    "workload random start");
	stats = report_from(&g, 0, &vcpu);
	seq = json_num(vcpu, "seq");
	json_free(stats);
	v = dirtyrate_json(g.sock, (const char *const[]){
		"--mode", "sample", "--sample-pages", "8192", "--seed", "42",
		"--json", NULL });
	stats = report_from(&g, seq + 1, &vcpu);
	cr_assert_eq(json_num(vcpu, "interval_distinct_pages"), wss_pages,
		     "the guest rewrites its whole working set each second");
	s = json_get(v, "sample");
	cr_assert_not_null(s);
	cr_expect_eq(json_num(s, "sampled_pages"), 2048);
	cr_expect_eq(json_num(s, "seed"), 42);
	cr_log_info("sample: %.0f pages, 95%% CI [%.0f, %.0f], SE %.0f; truth %.0f..%.0f",
		    json_num(v, "dirty_pages"), json_num(s, "ci95_low_pages"),
		    json_num(s, "ci95_high_pages"), json_num(s, "stderr_pages"),
		    wss_pages, wss_pages + others);
	cr_expect_leq(json_num(s, "ci95_low_pages"), wss_pages + others);
	cr_expect_geq(json_num(s, "ci95_high_pages"), wss_pages);
	cr_expect_lt(fabs(json_num(v, "dirty_pages") - wss_pages),
		     3 * json_num(s, "stderr_pages") + others);
	cr_expect(!json_get(v, "logging_after")->boolean, "no logging used");
	json_free(stats);
	json_free(v);
	stop_guest(&g);
}

static bool slot0_logging(const struct guest *g)
{
	struct json_value *q = ctl(g, "query-dirty-log", NULL);
	bool on = false;

	json_get_bool(json_get(q, "slots")->items[0], "logging", &on);
	json_free(q);
	return on;
}

Test(dirtyrate, logging_is_restored_and_errors_name_the_problem)
{
	struct guest g;
	struct json_value *v;
	struct proc_result r;

	start_guest(&g, "/tmp/kt-dr-log.sock", "256M", "1", NULL,
		    "workload=sweep wss=64M rate=5000", "workload sweep start");
	cr_assert(!slot0_logging(&g), "started without tracking");
	v = dirtyrate_json(g.sock, (const char *const[]){ "--period", "200ms",
							   "--json", NULL });
	cr_expect(!json_get(v, "logging_before")->boolean);
	cr_expect_gt(json_num(v, "dirty_pages"), 500, "5000 pages/s for 0.2 s");
	json_free(v);
	cr_expect(!slot0_logging(&g), "switched off again after the window");

	json_free(ctl(&g, "dirty-log", "{\"enable\": true}"));
	v = dirtyrate_json(g.sock, (const char *const[]){ "--period", "0.2",
							   "--json", NULL });
	cr_expect(json_get(v, "logging_before")->boolean);
	cr_expect(json_get(v, "logging_after")->boolean);
	json_free(v);
	cr_expect(slot0_logging(&g), "the user's logging stays on");

	r = run_dirtyrate(g.sock, (const char *const[]){ "--mode", "ring", NULL });
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "--dirty-log ring"), "names the flag: %s", r.err);
	proc_result_free(&r);

	/* The table, for a human. */
	r = run_dirtyrate(g.sock, (const char *const[]){ "-p", "100ms", NULL });
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "total") && strstr(r.out, "slot 0"), "%s",
		  r.out);
	proc_result_free(&r);
	stop_guest(&g);
}

Test(dirtyrate, usage_and_socket_errors)
{
	static const struct {
		const char *args[4], *message;
		int status;
	} cases[] = {
		{ { "--mode", "bitmaps" }, "--mode 'bitmaps'", 2 },
		{ { "--period", "1h" }, "duration '1h'", 2 },
		{ { "--period", "0" }, "from 1ms", 2 },
		{ { "--svg", "/tmp/x.svg" }, "--svg needs --wss", 2 },
		{ { "--period", "10ms" }, "/tmp/kt-dr-none.sock", 1 },
	};

	unlink("/tmp/kt-dr-none.sock");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct proc_result r =
			run_dirtyrate("/tmp/kt-dr-none.sock", cases[i].args);

		cr_expect_eq(r.status, cases[i].status, "%s: %s",
			     cases[i].args[0], r.err);
		cr_expect(strstr(r.err, cases[i].message), "wanted '%s' in: %s",
			  cases[i].message, r.err);
		proc_result_free(&r);
	}
}

/* The measurement gives up when the VM stops, so kvmtrack can exit. */
Test(dirtyrate, a_vm_that_stops_ends_the_measurement)
{
	const char *sock = "/tmp/kt-dr-stop.sock";
	const char *argv[] = { KVMTRACK_BIN, "run", "--control", sock,
			       "--cmdline", "workload=idle duration=1",
			       GUEST_ELF, NULL };
	struct proc_result r, run;
	struct bg_proc p;

	unlink(sock);
	cr_assert_eq(bg_start(argv, &p), 0);
	cr_assert(wait_for_socket(sock, 10000));
	r = run_dirtyrate(sock, (const char *const[]){ "--period", "20s", NULL });
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "the VM stopped during the measurement"), "%s",
		  r.err);
	proc_result_free(&r);
	bg_wait(&p, 10, &run);
	cr_expect(!run.timed_out);
	cr_expect_eq(run.status, 0, "%s", run.err);
	proc_result_free(&run);
}
