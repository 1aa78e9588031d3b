// SPDX-License-Identifier: MIT
/* Presenting a "calc-dirty-rate" reply (see dirtyrate_print.h). */
#include "app/dirtyrate_print.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "app/svg_plot.h"
#include "lib/json/json.h"

static double num(const struct json_value *obj, const char *key)
{
	const struct json_value *v = json_get(obj, key);

	return v && v->type == JSON_NUMBER ? v->number : 0;
}

static bool flag(const struct json_value *obj, const char *key)
{
	bool b = false;

	json_get_bool(obj, key, &b);
	return b;
}

static const char *str(const struct json_value *obj, const char *key)
{
	const char *s = "?";

	json_get_string(obj, key, &s);
	return s;
}

static const struct json_value *array(const struct json_value *obj,
				      const char *key)
{
	const struct json_value *v = json_get(obj, key);

	return v && v->type == JSON_ARRAY ? v : NULL;
}

void dirtyrate_format_ms(double ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%g ms", ms);
	else
		snprintf(buf, len, "%g s", ms / 1000);
}

static void format_size(double bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;

	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%g %s", bytes, units[u]);
}

static void print_header(FILE *f, const char *socket_path,
			 const struct json_value *r)
{
	bool before = flag(r, "logging_before"), after = flag(r, "logging_after");

	bool sample = !strcmp(str(r, "mode"), "sample");

	fprintf(f, "dirtyrate of %s: mode %s, window %.1f ms\n", socket_path,
		str(r, "mode"), num(r, "elapsed_ms"));
	if (sample)
		fprintf(f, "no dirty logging: the content of sampled pages compared\n");
	else if (!before)
		fprintf(f, "%s dirty log was off: switched on for the window, now %s\n",
			str(r, "backend"),
			after ? "still on (someone else uses it)" : "off again");
	else
		fprintf(f, "%s dirty log was already on and stays on\n",
			str(r, "backend"));
	fprintf(f, "\n%-12s %12s %12s %10s\n", "", "dirty pages", "pages/s",
		"MiB/s");
}

static void print_rate_line(FILE *f, const char *name,
			    const struct json_value *o, const char *where)
{
	fprintf(f, "%-12s %12.0f %12.1f %10.2f   %s\n", name,
		num(o, "dirty_pages"), num(o, "pages_per_s"), num(o, "mib_per_s"),
		where);
}

static void print_totals(FILE *f, const struct json_value *r)
{
	const struct json_value *slots = array(r, "slots");
	const struct json_value *range = json_get(r, "range");
	char name[32], where[96], size[32];

	snprintf(where, sizeof(where), "of %.0f pages", num(r, "ram_pages"));
	print_rate_line(f, "total", r, where);
	for (size_t i = 0; slots && i < slots->nr_items; i++) {
		const struct json_value *s = slots->items[i];

		snprintf(name, sizeof(name), "slot %.0f", num(s, "slot"));
		format_size(num(s, "size"), size, sizeof(size));
		snprintf(where, sizeof(where), "gpa 0x%" PRIx64 ", %s",
			 (uint64_t)num(s, "gpa"), size);
		print_rate_line(f, name, s, where);
	}
	if (range) {
		format_size(num(range, "size"), size, sizeof(size));
		snprintf(where, sizeof(where), "gpa 0x%" PRIx64 ", %s",
			 (uint64_t)num(range, "gpa"), size);
		print_rate_line(f, "range", range, where);
	}
	if (json_get(r, "vmm_pages"))
		fprintf(f, "%-12s %12.0f %36s\n", "VMM writes",
			num(r, "vmm_pages"), "(included above)");
}

static void print_sample(FILE *f, const struct json_value *r)
{
	const struct json_value *s = json_get(r, "sample");

	if (!s)
		return;
	fprintf(f,
		"\nestimated from %.0f sampled pages (seed %" PRIu64 "), %.0f changed:\n"
		"  95%% confidence interval %.0f .. %.0f pages (%.2f .. %.2f MiB/s),\n"
		"  standard error %.0f pages\n",
		num(s, "sampled_pages"), (uint64_t)num(s, "seed"),
		num(s, "changed_pages"), num(s, "ci95_low_pages"),
		num(s, "ci95_high_pages"), num(s, "ci95_low_mib_per_s"),
		num(s, "ci95_high_mib_per_s"), num(s, "stderr_pages"));
}

static void print_vcpus(FILE *f, const struct json_value *r)
{
	const struct json_value *vcpus = array(r, "vcpus");

	if (!vcpus)
		return;
	fprintf(f, "\n%-6s %12s %8s %12s %10s\n", "vCPU", "ring entries",
		"share", "pages/s", "MiB/s");
	for (size_t i = 0; i < vcpus->nr_items; i++) {
		const struct json_value *v = vcpus->items[i];

		fprintf(f, "%-6.0f %12.0f %7.1f%% %12.1f %10.2f\n",
			num(v, "vcpu"), num(v, "dirty_pages"),
			num(v, "share") * 100, num(v, "pages_per_s"),
			num(v, "mib_per_s"));
	}
	fprintf(f, "(ring entries: pages each vCPU dirtied first since the last ring reset)\n");
}

static void print_wss(FILE *f, const struct json_value *r)
{
	const struct json_value *wss = array(r, "wss");
	char window[32], elapsed[32];

	if (!wss)
		return;
	fprintf(f, "\nworking set: distinct pages dirtied since the window opened\n");
	fprintf(f, "%9s %11s %12s %10s %17s\n", "window", "elapsed", "pages",
		"MiB", "MiB/s to keep up");
	for (size_t i = 0; i < wss->nr_items; i++) {
		const struct json_value *w = wss->items[i];

		dirtyrate_format_ms(num(w, "window_ms"), window, sizeof(window));
		snprintf(elapsed, sizeof(elapsed), "%.1f ms",
			 num(w, "elapsed_ms"));
		fprintf(f, "%9s %11s %12.0f %10.2f %17.2f\n", window, elapsed,
			num(w, "dirty_pages"), num(w, "dirty_mib"),
			num(w, "mib_per_s"));
	}
}

int dirtyrate_print_tables(FILE *f, const char *socket_path,
			   const struct json_value *result)
{
	print_header(f, socket_path, result);
	print_totals(f, result);
	print_sample(f, result);
	print_vcpus(f, result);
	print_wss(f, result);
	if (fflush(f) || ferror(f)) {
		fprintf(stderr, "kvmtrack dirtyrate: writing the result: %s\n",
			strerror(errno));
		return -EIO;
	}
	return 0;
}

int dirtyrate_print_json(FILE *f, const struct json_value *result)
{
	struct jw w;
	const char *text;
	int ret = 0;

	jw_init(&w);
	jw_value(&w, NULL, result);
	text = jw_finish(&w);
	if (!text || fprintf(f, "%s\n", text) < 0 || fflush(f)) {
		fprintf(stderr, "kvmtrack dirtyrate: writing the JSON: %s\n",
			strerror(text ? errno : ENOMEM));
		ret = -EIO;
	}
	jw_free(&w);
	return ret;
}

static FILE *open_output(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fprintf(stderr, "kvmtrack dirtyrate: %s: %s\n", path,
			strerror(errno));
	return f;
}

static int close_output(FILE *f, const char *path, int ret)
{
	if (fclose(f) && !ret)
		ret = -errno;
	if (ret)
		fprintf(stderr, "kvmtrack dirtyrate: writing %s: %s\n", path,
			strerror(-ret));
	return ret;
}

int dirtyrate_write_json_file(const char *path,
			      const struct json_value *result)
{
	FILE *f = open_output(path);

	if (!f)
		return -EIO;
	return close_output(f, path, dirtyrate_print_json(f, result));
}

static void format_x_ms(double ms, char *buf, size_t len)
{
	dirtyrate_format_ms(ms, buf, len);
}

int dirtyrate_write_svg(const char *path, const char *socket_path,
			const struct json_value *result)
{
	const struct json_value *wss = array(result, "wss");
	struct svg_plot plot = {
		.x_label = "window (log scale)",
		.y_label = "distinct pages dirtied (MiB)",
		.log_x = true,
		.format_x = format_x_ms,
	};
	double *x, *y;
	char title[256];
	FILE *f;
	int ret;

	if (!wss || !wss->nr_items) {
		fprintf(stderr, "kvmtrack dirtyrate: no working-set curve to plot\n");
		return -EINVAL;
	}
	x = calloc(wss->nr_items, sizeof(*x));
	y = calloc(wss->nr_items, sizeof(*y));
	f = x && y ? open_output(path) : NULL;
	ret = f ? 0 : -ENOMEM;
	for (size_t i = 0; f && i < wss->nr_items; i++) {
		x[i] = num(wss->items[i], "window_ms");
		y[i] = num(wss->items[i], "dirty_mib");
	}
	snprintf(title, sizeof(title), "Writable working set of %s (%s mode)",
		 socket_path, str(result, "mode"));
	plot.title = title;
	plot.x = x;
	plot.y = y;
	plot.nr_points = wss->nr_items;
	if (f)
		ret = close_output(f, path, svg_plot_write(f, &plot));
	free(x);
	free(y);
	return ret;
}
