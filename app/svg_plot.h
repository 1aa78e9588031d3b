/* SPDX-License-Identifier: MIT */
/*
 * A line plot written as a standalone SVG file by hand (no library): one
 * series of points, a linear or logarithmic x axis, a linear y axis from 0,
 * grid lines at 1-2-5 steps. Used for `kvmtrack dirtyrate --wss --svg`.
 */
#ifndef KVMTRACK_SVG_PLOT_H
#define KVMTRACK_SVG_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct svg_plot {
	const char *title; /* text is XML-escaped */
	const char *x_label;
	const char *y_label;
	bool log_x; /* x values must then be > 0 */
	/* Tick label for an x value, e.g. 1000 -> "1 s"; NULL: "%g". */
	void (*format_x)(double x, char *buf, size_t len);
	const double *x;
	const double *y;
	size_t nr_points;
};

/* Nice step for a linear axis from 0 to max with about `ticks` ticks. */
double svg_plot_nice_step(double max, unsigned int ticks);

/*
 * Writes the plot to f. Returns 0, -EINVAL for no points or a
 * non-positive x on a log axis, or -EIO when writing failed.
 */
int svg_plot_write(FILE *f, const struct svg_plot *p);

#endif
