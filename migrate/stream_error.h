/* SPDX-License-Identifier: MIT */
/*
 * The migration stream's sticky error (stream.h): after the first one,
 * every call fails with it.
 */
#ifndef KVMTRACK_STREAM_ERROR_H
#define KVMTRACK_STREAM_ERROR_H

#include "migrate/stream_types.h"

int mig_stream_fail(struct mig_stream *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline const char *mig_stream_error(const struct mig_stream *s)
{
	return s->err_msg;
}

#endif
