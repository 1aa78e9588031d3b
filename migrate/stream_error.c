// SPDX-License-Identifier: MIT
/* The migration stream's sticky error and its frames' names
 * (stream_error.h, proto.h). */
#include "migrate/stream_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "migrate/proto.h"

const char *mig_frame_name(unsigned int type)
{
	static const char *const names[] = {
		[MIG_HELLO] = "HELLO", [MIG_CONFIG] = "CONFIG",
		[MIG_RAM] = "RAM", [MIG_RAM_LIVE] = "RAM_LIVE",
		[MIG_SPARSE] = "SPARSE", [MIG_PASS] = "PASS",
		[MIG_STATE] = "STATE", [MIG_DIGEST] = "DIGEST",
		[MIG_READY] = "READY", [MIG_DONE] = "DONE",
		[MIG_ERROR] = "ERROR", [MIG_SYNCED] = "SYNCED",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return NULL;
}

int mig_stream_fail(struct mig_stream *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->err)
		return s->err;
	s->err = err < 0 ? err : -EPROTO;
	va_start(ap, fmt);
	vsnprintf(s->err_msg, sizeof(s->err_msg), fmt, ap);
	va_end(ap);
	return s->err;
}
