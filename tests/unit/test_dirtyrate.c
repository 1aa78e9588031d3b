// SPDX-License-Identifier: MIT
/*
 * dirtyrate without a VM: the duration and mode parsers, the working-set
 * windows, the sample-mode estimate (values and the coverage of its 95%
 * interval over simulated samplings), the SVG plot and the control
 * command's argument checks.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/dirtyrate_print.h"
#include "app/svg_plot.h"
#include "control/control.h"
#include "dirtyrate/dirtyrate.h"
#include "lib/json/json.h"

static uint64_t dur(const char *text)
{
	uint64_t ms = 12345;
	char err[256] = "";
	int ret = dirtyrate_parse_duration(text, &ms, err, sizeof(err));

	cr_assert_eq(ret, 0, "'%s': %s", text, err);
	return ms;
}

Test(duration, units_fractions_and_bare_seconds)
{
	cr_expect_eq(dur("1s"), 1000);
	cr_expect_eq(dur("500ms"), 500);
	cr_expect_eq(dur("2"), 2000);
	cr_expect_eq(dur("1.5s"), 1500);
	cr_expect_eq(dur("0.25"), 250);
	cr_expect_eq(dur(".5s"), 500);
	cr_expect_eq(dur("10ms"), 10);
	cr_expect_eq(dur("1.5ms"), 2, "rounded to the nearest millisecond");
	cr_expect_eq(dur("1.0004s"), 1000);
	cr_expect_eq(dur("1.0005s"), 1001);
	cr_expect_eq(dur("0.001"), 1);
	cr_expect_eq(dur("3600s"), 3600000);
	cr_expect_eq(dur("1.000000001s"), 1000, "nine decimals are fine");
}

static int dur_err(const char *text, char *err, size_t len)
{
	uint64_t ms = 777;
	int ret = dirtyrate_parse_duration(text, &ms, err, len);

	cr_expect_eq(ms, 777, "'%s': a failed parse must not write", text);
	return ret;
}

Test(duration, malformed_and_out_of_range)
{
	static const char *const malformed[] = {
		"", "s", "ms", "1x", "-1s", "+1s", "1 s", "1e3", "inf", "nan",
		"0x10", "1,5s", "1.5.5", "1sec", "1.2345678901s", "1m",
	};
	static const char *const out_of_range[] = {
		"0", "0s", "0.0004s", "0.1ms", "3601", "3600001ms",
		"99999999999999999999999s",
	};
	char err[256];

	for (size_t i = 0; i < sizeof(malformed) / sizeof(*malformed); i++) {
		cr_expect_eq(dur_err(malformed[i], err, sizeof(err)), -EINVAL,
			     "'%s'", malformed[i]);
		cr_expect(strstr(err, malformed[i]), "the message names it: %s",
			  err);
	}
	for (size_t i = 0; i < sizeof(out_of_range) / sizeof(*out_of_range);
	     i++)
		cr_expect_eq(dur_err(out_of_range[i], err, sizeof(err)),
			     -ERANGE, "'%s'", out_of_range[i]);
	cr_expect(strstr(err, "from 1ms"), "%s", err);
}

Test(mode, names_round_trip)
{
	enum dirtyrate_mode m;

	cr_assert_eq(dirtyrate_parse_mode("bitmap", &m), 0);
	cr_expect_eq(m, DIRTYRATE_BITMAP);
	cr_assert_eq(dirtyrate_parse_mode("ring", &m), 0);
	cr_expect_eq(m, DIRTYRATE_RING);
	cr_assert_eq(dirtyrate_parse_mode("sample", &m), 0);
	cr_expect_str_eq(dirtyrate_mode_name(m), "sample");
	cr_expect_eq(dirtyrate_parse_mode("Bitmap", &m), -EINVAL);
	cr_expect_eq(dirtyrate_parse_mode("", &m), -EINVAL);
}

Test(wss, windows_grow_in_1_2_5_steps_up_to_the_limit)
{
	static const uint64_t full[] = { 10,  20,   50,   100,  200,
					 500, 1000, 2000, 5000, 10000 };
	struct dirtyrate_windows w;

	dirtyrate_wss_windows(10000, &w);
	cr_assert_eq(w.nr, 10);
	for (unsigned int i = 0; i < w.nr; i++)
		cr_expect_eq(w.ms[i], full[i]);
	dirtyrate_wss_windows(1500, &w);
	cr_assert_eq(w.nr, 8);
	cr_expect_eq(w.ms[6], 1000);
	cr_expect_eq(w.ms[7], 1500, "the limit itself ends the curve");
	dirtyrate_wss_windows(5, &w);
	cr_assert_eq(w.nr, 1);
	cr_expect_eq(w.ms[0], 5);
	dirtyrate_wss_windows(DIRTYRATE_MAX_PERIOD_MS, &w);
	cr_expect_leq(w.nr, DIRTYRATE_MAX_WINDOWS);
	cr_expect_eq(w.ms[w.nr - 1], DIRTYRATE_MAX_PERIOD_MS);
}

Test(sample, estimate_standard_error_and_wilson_interval)
{
	struct dirtyrate_estimate e;

	/* p = 0.25, n = 1000: SE = sqrt(.25 * .75 / 1000) = 0.013693; the
	 * Wilson interval is [0.22416, 0.27776]. */
	dirtyrate_sample_estimate(1000, 250, 1000000, &e);
	cr_expect_float_eq(e.pages, 250000, 1e-6);
	cr_expect_float_eq(e.stderr_pages, 13693.1, 0.1);
	cr_expect_float_eq(e.ci95_low_pages, 224160, 20);
	cr_expect_float_eq(e.ci95_high_pages, 277760, 20);

	/* Nothing changed: the estimate is 0 but the interval is not. */
	dirtyrate_sample_estimate(1000, 0, 1000000, &e);
	cr_expect_eq(e.pages, 0);
	cr_expect_float_eq(e.ci95_low_pages, 0, 1e-6);
	cr_expect_float_eq(e.ci95_high_pages, 3.8415 / 1003.8415 * 1e6, 1);

	dirtyrate_sample_estimate(500, 500, 2000, &e);
	cr_expect_eq(e.pages, 2000);
	cr_expect_float_eq(e.ci95_high_pages, 2000, 1e-6);
	cr_expect_lt(e.ci95_low_pages, 2000);

	dirtyrate_sample_estimate(0, 0, 2000, &e);
	cr_expect_eq(e.pages, 0);
	cr_expect_eq(e.ci95_high_pages, 0);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Samplings of a memory with a known dirty fraction: the stated 95%
 * interval must hold the truth in about 95% of them. */
Test(sample, interval_covers_the_truth_95_percent_of_the_time)
{
	static const double fractions[] = { 0.02, 0.1, 0.25, 0.5 };
	const unsigned int trials = 4000, n = 512;
	const uint64_t total = 262144;
	uint64_t seed = 0x1234567;

	for (size_t f = 0; f < sizeof(fractions) / sizeof(*fractions); f++) {
		uint64_t dirty = (uint64_t)(fractions[f] * total);
		unsigned int covered = 0;

		for (unsigned int t = 0; t < trials; t++) {
			struct dirtyrate_estimate e;
			uint64_t changed = 0;

			for (unsigned int i = 0; i < n; i++)
				changed += xorshift(&seed) % total < dirty;
			dirtyrate_sample_estimate(n, changed, total, &e);
			covered += e.ci95_low_pages <= (double)dirty &&
				   (double)dirty <= e.ci95_high_pages;
		}
		cr_expect(covered > trials * 0.93 && covered < trials * 0.975,
			  "fraction %.2f: %u of %u intervals hold the truth",
			  fractions[f], covered, trials);
	}
}

Test(sample, pages_per_gib)
{
	cr_expect_eq(dirtyrate_sample_count(1ull << 30, 512), 512);
	cr_expect_eq(dirtyrate_sample_count(256ull << 20, 512), 128);
	cr_expect_eq(dirtyrate_sample_count(3ull << 30, 512), 1536);
	cr_expect_eq(dirtyrate_sample_count(4096 * 10, 1), 1, "at least one");
	cr_expect_eq(dirtyrate_sample_count(4096 * 10, 262144), 10,
		     "never more than there are pages");
}

Test(print, durations)
{
	char buf[32];

	dirtyrate_format_ms(10, buf, sizeof(buf));
	cr_expect_str_eq(buf, "10 ms");
	dirtyrate_format_ms(1000, buf, sizeof(buf));
	cr_expect_str_eq(buf, "1 s");
	dirtyrate_format_ms(1500, buf, sizeof(buf));
	cr_expect_str_eq(buf, "1.5 s");
}

static int count_circles(const char *s)
{
	int n = 0;

	while ((s = strstr(s, "<circle "))) {
		n++;
		s++;
	}
	return n;
}

Test(svg, plot_is_well_formed_text_with_every_point)
{
	const double x[] = { 10, 20, 50, 100, 1000 }, y[] = { 1, 2, 4, 8, 60 };
	struct svg_plot p = {
		.title = "a <b> & \"c\"", .x_label = "window",
		.y_label = "MiB", .log_x = true, .x = x, .y = y,
		.nr_points = 5,
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_eq(svg_plot_write(f, &p), 0);
	fclose(f);
	cr_expect(strstr(buf, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	cr_expect(strstr(buf, "</svg>\n"));
	cr_expect(strstr(buf, "a &lt;b&gt; &amp; &quot;c&quot;"), "escaped");
	cr_expect_eq(count_circles(buf), 5);
	cr_expect(strstr(buf, ">1000<"), "a tick at each 1-2-5 step");
	free(buf);

	f = fopen("/dev/null", "w");
	p.x = (const double[]){ 0, 1 };
	p.nr_points = 2;
	cr_expect_eq(svg_plot_write(f, &p), -EINVAL, "0 on a log axis");
	fclose(f);
	cr_expect_float_eq(svg_plot_nice_step(157, 5), 50, 1e-9);
	cr_expect_float_eq(svg_plot_nice_step(0.9, 5), 0.2, 1e-9);
}

static struct json_value *call(struct control *c, const char *line)
{
	struct json_value *v;
	struct jw w;
	char err[256];

	jw_init(&w);
	cr_assert_eq(control_handle_line(c, line, strlen(line), &w), 0);
	cr_assert_not_null(jw_finish(&w));
	cr_assert_eq(json_parse(w.buf, w.len, &v, err, sizeof(err)), 0);
	jw_free(&w);
	return v;
}

/* Argument errors are found before the VM is touched (vm is NULL). */
Test(control, calc_dirty_rate_refuses_bad_arguments)
{
	static const struct {
		const char *args, *desc;
	} cases[] = {
		{ "{\"mode\":\"dirty\"}", "'mode' must be" },
		{ "{\"mode\":3}", "'mode' must be" },
		{ "{\"period_ms\":-1}", "'period_ms' must be" },
		{ "{\"period\":1000}", "unknown argument 'period'" },
		{ "{\"wss\":1}", "'wss' must be true or false" },
		{ "{\"sample_pages\":0}", "'sample_pages' must be" },
	};
	struct control *c;

	cr_assert_eq(control_create(NULL, &c), 0);
	cr_assert_eq(dirtyrate_register_commands(c, NULL), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char line[256];
		struct json_value *v;
		const char *desc = "";

		snprintf(line, sizeof(line),
			 "{\"execute\":\"calc-dirty-rate\",\"arguments\":%s}",
			 cases[i].args);
		v = call(c, line);
		json_get_string(json_get(v, "error"), "desc", &desc);
		cr_expect(strstr(desc, cases[i].desc), "%s: got '%s'",
			  cases[i].args, desc);
		json_free(v);
	}
	control_stop(c);
}
