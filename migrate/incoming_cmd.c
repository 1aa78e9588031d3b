// SPDX-License-Identifier: MIT
/* "query-migrate" on a destination: what the incoming migration brought. */
#include <errno.h>
#include <stdio.h>

#include "migrate/incoming_impl.h"
#include "control/control.h"
#include "lib/json/json.h"

static int cmd_query_incoming(struct vm *vm, void *opaque,
			      const struct json_value *args, struct jw *reply,
			      char *err, size_t err_len)
{
	const struct incoming *in = opaque;

	jw_object_begin(reply, NULL);
	jw_string(reply, "status", "completed");
	jw_string(reply, "direction", "incoming");
	jw_string(reply, "source", in->peer);
	jw_u64(reply, "total_ms", in->total_ms);
	jw_u64(reply, "received_bytes", in->s.bytes_received);
	jw_u64(reply, "normal_pages", in->normal_pages);
	jw_u64(reply, "sparse_pages", in->sparse_pages);
	jw_u64(reply, "zero_pages", in->zero_pages);
	jw_u64(reply, "passes", in->passes);
	jw_bool(reply, "verified", in->verified);
	jw_object_end(reply);
	return 0;
}

int incoming_register_commands(struct control *c, void *opaque)
{
	return control_register(c, "query-incoming",
				"what the incoming migration received",
				cmd_query_incoming, opaque);
}
