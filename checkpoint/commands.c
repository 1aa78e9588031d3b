// SPDX-License-Identifier: MIT
/*
 * The control command of checkpoints:
 *   checkpoint {"to": DIR, "incremental": false, "stop": false,
 *               "max_pause_ms": 5, "mac_psk": FILE}
 *     -> {name, parent (null for a full one), digest, pause_ms, total_ms,
 *         pages, pause_pages, bytes, passes, switchover,
 *         pause_breakdown_us: {stop, pages, state, resume}}
 * It runs on the control thread, which a migration's commands share, so
 * no migration can start while a checkpoint is taken.
 */
#include <errno.h>
#include <stdio.h>

#include "checkpoint/checkpoint.h"
#include "control/control.h"
#include "lib/json/json.h"

static void reply_result(const struct ckpt_result *res, struct jw *reply)
{
	char digest[17];

	snprintf(digest, sizeof(digest), "%016llx",
		 (unsigned long long)res->digest);
	jw_object_begin(reply, NULL);
	jw_string(reply, "name", res->name);
	if (res->parent[0])
		jw_string(reply, "parent", res->parent);
	else
		jw_null(reply, "parent");
	jw_string(reply, "digest", digest);
	jw_double(reply, "pause_ms", (double)res->pause_ns / 1e6);
	jw_double(reply, "total_ms", (double)res->total_ns / 1e6);
	jw_u64(reply, "pages", res->pages);
	jw_u64(reply, "pause_pages", res->pause_pages);
	jw_u64(reply, "bytes", res->bytes);
	jw_u64(reply, "passes", res->passes);
	jw_string(reply, "switchover", res->switchover);
	jw_object_begin(reply, "pause_breakdown_us");
	jw_u64(reply, "stop", res->pause_us[CKPT_PAUSE_STOP]);
	jw_u64(reply, "pages", res->pause_us[CKPT_PAUSE_PAGES]);
	jw_u64(reply, "state", res->pause_us[CKPT_PAUSE_STATE]);
	jw_u64(reply, "resume", res->pause_us[CKPT_PAUSE_RESUME]);
	jw_object_end(reply);
	jw_object_end(reply);
}

static int cmd_checkpoint(struct vm *vm, void *opaque,
			  const struct json_value *args, struct jw *reply,
			  char *err, size_t err_len)
{
	struct ckpt_request rq = {0};
	struct ckpt_result res;
	uint64_t passes = 0;
	int ret;

	if (json_get_string(args, "to", &rq.dir) < 0 || !rq.dir[0]) {
		snprintf(err, err_len,
			 "'to' (the chain's directory) is required");
		return -EINVAL;
	}
	ret = json_opt_bool(args, "incremental", &rq.incremental, err, err_len);
	ret = ret ?: json_opt_bool(args, "stop", &rq.stop, err, err_len);
	ret = ret
		  ?: json_opt_u64(args, "max_pause_ms", &rq.max_pause_ms, err,
				  err_len);
	ret = ret ?: json_opt_u64(args, "max_passes", &passes, err, err_len);
	if (!ret && json_get(args, "mac_psk") &&
	    (json_get_string(args, "mac_psk", &rq.mac_psk) < 0 ||
	     !rq.mac_psk[0])) {
		snprintf(err, err_len, "'mac_psk' must be a file's path");
		ret = -EINVAL;
	}
	if (!ret && (rq.max_pause_ms > 3600000 || passes > 10000)) {
		snprintf(err, err_len, "'%s' is out of range",
			 passes > 10000 ? "max_passes" : "max_pause_ms");
		ret = -EINVAL;
	}
	rq.max_passes = (unsigned int)passes;
	ret = ret ?: checkpoint_take(opaque, &rq, &res, err, err_len);
	if (!ret)
		reply_result(&res, reply);
	return ret;
}

int checkpoint_register_commands(struct control *c, void *opaque)
{
	static const struct control_command_spec table[] = {
	    {"checkpoint",
	     "{to, incremental?, stop?, max_pause_ms?, max_passes?, mac_psk?}: "
	     "write a checkpoint of the guest into the chain in directory 'to' "
	     "(with MACs under mac_psk's first key)",
	     cmd_checkpoint},
	};

	return control_register_table(c, table,
				      sizeof(table) / sizeof(table[0]), opaque);
}
