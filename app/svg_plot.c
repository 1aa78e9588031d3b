// SPDX-License-Identifier: MIT
/* A hand-written SVG line plot (see svg_plot.h). */
#include "app/svg_plot.h"

#include <errno.h>
#include <math.h>

#define WIDTH 720
#define HEIGHT 440
#define LEFT 90 /* room for the y tick labels and the y label */
#define RIGHT 30
#define TOP 50
#define BOTTOM 60

struct axes {
	double x_lo, x_hi; /* in axis units (log10 x on a log axis) */
	double y_hi, y_step;
	bool log_x;
};

static void put_escaped(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

double svg_plot_nice_step(double max, unsigned int ticks)
{
	double raw, mag, step;

	if (!(max > 0) || !ticks)
		return 1;
	raw = max / ticks;
	mag = pow(10, floor(log10(raw)));
	step = raw / mag <= 1 ? 1 : raw / mag <= 2 ? 2 : raw / mag <= 5 ? 5 : 10;
	return step * mag;
}

static double px_x(const struct axes *a, double x)
{
	double u = a->log_x ? log10(x) : x;

	return LEFT + (u - a->x_lo) / (a->x_hi - a->x_lo) *
			      (WIDTH - LEFT - RIGHT);
}

static double px_y(const struct axes *a, double y)
{
	return HEIGHT - BOTTOM - y / a->y_hi * (HEIGHT - TOP - BOTTOM);
}

static void label_x(const struct svg_plot *p, double x, char *buf,
		    size_t len)
{
	if (p->format_x)
		p->format_x(x, buf, len);
	else
		snprintf(buf, len, "%g", x);
}

static void tick_x(FILE *f, const struct svg_plot *p, const struct axes *a,
		   double x, bool labelled)
{
	double px = px_x(a, x);
	char buf[32];

	fprintf(f,
		"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n",
		px, TOP, px, HEIGHT - BOTTOM);
	if (!labelled)
		return;
	label_x(p, x, buf, sizeof(buf));
	fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", px,
		HEIGHT - BOTTOM + 18);
	put_escaped(f, buf);
	fputs("</text>\n", f);
}

/* Log axis: a line at every 1-2-5 step of each decade, all labelled. */
static void grid_x(FILE *f, const struct svg_plot *p, const struct axes *a)
{
	static const double steps[] = { 1, 2, 5 };

	if (!a->log_x) {
		double step = svg_plot_nice_step(a->x_hi, 6);

		for (double x = 0; x <= a->x_hi + step / 1e6; x += step)
			tick_x(f, p, a, x, true);
		return;
	}
	for (double d = a->x_lo; d < a->x_hi + 0.5; d++)
		for (unsigned int i = 0; i < 3; i++) {
			double x = steps[i] * pow(10, d);

			if (log10(x) <= a->x_hi + 1e-9)
				tick_x(f, p, a, x, true);
		}
}

static void grid_y(FILE *f, const struct axes *a)
{
	for (double y = 0; y <= a->y_hi + a->y_step / 1e6; y += a->y_step) {
		double py = px_y(a, y);

		fprintf(f,
			"<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			LEFT, py, WIDTH - RIGHT, py, LEFT - 6, py + 4, y);
	}
}

static int compute_axes(const struct svg_plot *p, struct axes *a)
{
	double x_min = INFINITY, x_max = -INFINITY, y_max = 0;

	if (!p->nr_points)
		return -EINVAL;
	for (size_t i = 0; i < p->nr_points; i++) {
		if (p->log_x && !(p->x[i] > 0))
			return -EINVAL;
		x_min = fmin(x_min, p->x[i]);
		x_max = fmax(x_max, p->x[i]);
		y_max = fmax(y_max, p->y[i]);
	}
	a->log_x = p->log_x;
	if (p->log_x) {
		a->x_lo = floor(log10(x_min));
		a->x_hi = ceil(log10(x_max));
		if (a->x_hi <= a->x_lo)
			a->x_hi = a->x_lo + 1;
	} else {
		a->x_lo = 0;
		a->x_hi = x_max > 0 ? x_max : 1;
	}
	a->y_step = svg_plot_nice_step(y_max > 0 ? y_max : 1, 5);
	a->y_hi = ceil((y_max > 0 ? y_max : 1) / a->y_step) * a->y_step;
	return 0;
}

static void put_text(FILE *f, const char *attrs, const char *text)
{
	fprintf(f, "<text %s>", attrs);
	put_escaped(f, text);
	fputs("</text>\n", f);
}

static void series(FILE *f, const struct svg_plot *p, const struct axes *a)
{
	fputs("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"",
	      f);
	for (size_t i = 0; i < p->nr_points; i++)
		fprintf(f, "%s%.1f,%.1f", i ? " " : "", px_x(a, p->x[i]),
			px_y(a, p->y[i]));
	fputs("\"/>\n", f);
	for (size_t i = 0; i < p->nr_points; i++)
		fprintf(f,
			"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#1f77b4\"/>\n",
			px_x(a, p->x[i]), px_y(a, p->y[i]));
}

int svg_plot_write(FILE *f, const struct svg_plot *p)
{
	struct axes a;
	char attrs[128];
	int ret = compute_axes(p, &a);

	if (ret)
		return ret;
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		WIDTH, HEIGHT, WIDTH, HEIGHT);
	snprintf(attrs, sizeof(attrs),
		 "x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"15\"",
		 WIDTH / 2, TOP / 2 + 4);
	put_text(f, attrs, p->title);
	grid_x(f, p, &a);
	grid_y(f, &a);
	fprintf(f,
		"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n",
		LEFT, TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
	series(f, p, &a);
	snprintf(attrs, sizeof(attrs), "x=\"%d\" y=\"%d\" text-anchor=\"middle\"",
		 (LEFT + WIDTH - RIGHT) / 2, HEIGHT - 15);
	put_text(f, attrs, p->x_label);
	snprintf(attrs, sizeof(attrs),
		 "x=\"18\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 18 %d)\"",
		 (TOP + HEIGHT - BOTTOM) / 2, (TOP + HEIGHT - BOTTOM) / 2);
	put_text(f, attrs, p->y_label);
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}
