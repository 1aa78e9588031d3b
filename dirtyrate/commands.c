// SPDX-License-Identifier: MIT
/*
 * The "calc-dirty-rate" control command (measurement in dirtyrate/measure.c):
 *   calc-dirty-rate {"period_ms": 1000, "mode": "bitmap"|"ring"|"sample",
 *                    "per_vcpu": bool, "wss": bool, "wss_max_ms": N,
 *                    "sample_pages": N (per GiB), "seed": N,
 *                    "range_gpa": N, "range_bytes": N}
 * Every argument is optional. The reply is the measurement's object.
 *
 * The handler runs on the control thread and blocks it for the whole
 * window (up to wss_max_ms with wss): other clients wait meanwhile, and a
 * client must allow at least that long for the reply.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/control.h"
#include "dirtyrate/dirtyrate.h"
#include "lib/json/json.h"

static const char *const known_args[] = {
	"period_ms", "mode",	     "per_vcpu",  "wss",	 "wss_max_ms",
	"sample_pages", "seed", "range_gpa", "range_bytes",
};

static int check_arg_names(const struct json_value *args, char *err,
			   size_t err_len)
{
	for (size_t i = 0; args && i < args->nr_items; i++) {
		size_t k;

		for (k = 0; k < sizeof(known_args) / sizeof(known_args[0]); k++)
			if (!strcmp(args->keys[i], known_args[k]))
				break;
		if (k == sizeof(known_args) / sizeof(known_args[0])) {
			snprintf(err, err_len, "unknown argument '%s'",
				 args->keys[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_mode(const struct json_value *args,
		      struct dirtyrate_request *req, char *err, size_t err_len)
{
	const char *mode;
	int ret = json_get_string(args, "mode", &mode);

	if (ret == -ENOENT)
		return 0;
	if (ret || dirtyrate_parse_mode(mode, &req->mode)) {
		snprintf(err, err_len,
			 "'mode' must be \"bitmap\", \"ring\" or \"sample\"");
		return -EINVAL;
	}
	return 0;
}

static int parse_request(const struct json_value *args,
			 struct dirtyrate_request *req, char *err,
			 size_t err_len)
{
	uint64_t sample_pages = DIRTYRATE_DEFAULT_SAMPLE_PAGES;
	int ret;

	*req = (struct dirtyrate_request){
		.mode = DIRTYRATE_BITMAP,
		.period_ms = DIRTYRATE_DEFAULT_PERIOD_MS,
		.wss_max_ms = DIRTYRATE_DEFAULT_WSS_MAX_MS,
	};
	ret = check_arg_names(args, err, err_len);
	ret = ret ?: parse_mode(args, req, err, err_len);
	ret = ret ?: json_opt_u64(args, "period_ms", &req->period_ms, err, err_len);
	ret = ret ?: json_opt_bool(args, "per_vcpu", &req->per_vcpu, err, err_len);
	ret = ret ?: json_opt_bool(args, "wss", &req->wss, err, err_len);
	ret = ret ?: json_opt_u64(args, "wss_max_ms", &req->wss_max_ms, err,
			     err_len);
	ret = ret ?: json_opt_u64(args, "sample_pages", &sample_pages, err, err_len);
	ret = ret ?: json_opt_u64(args, "range_gpa", &req->range_gpa, err, err_len);
	ret = ret ?: json_opt_u64(args, "range_bytes", &req->range_bytes, err,
			     err_len);
	if (!ret && json_get(args, "seed")) {
		req->have_seed = true;
		ret = json_opt_u64(args, "seed", &req->seed, err, err_len);
	}
	if (ret)
		return ret;
	if (sample_pages < 1 || sample_pages > DIRTYRATE_MAX_SAMPLE_PAGES) {
		snprintf(err, err_len, "'sample_pages' must be from 1 to %u",
			 DIRTYRATE_MAX_SAMPLE_PAGES);
		return -EINVAL;
	}
	req->sample_pages = (uint32_t)sample_pages;
	return 0;
}

static int cmd_calc_dirty_rate(struct vm *vm, void *opaque,
			       const struct json_value *args, struct jw *reply,
			       char *err, size_t err_len)
{
	struct dirtyrate_request req;
	int ret = parse_request(args, &req, err, err_len);

	return ret ?: dirtyrate_measure(vm, &req, reply, err, err_len);
}

int dirtyrate_register_commands(struct control *c, void *unused)
{
	return control_register(
		c, "calc-dirty-rate",
		"{period_ms?, mode?, per_vcpu?, wss?, wss_max_ms?, sample_pages?, seed?, range_gpa?, range_bytes?}: measure dirty pages (blocks for the window)",
		cmd_calc_dirty_rate, NULL);
}
