// SPDX-License-Identifier: MIT
/*
 * Dirty-rate measurement's entry point (see dirtyrate.h): checks the
 * request and the VM, then hands it to its mode: log.c (bitmap, ring) or
 * sample.c.
 */
#include "dirtyrate/dirtyrate.h"

#include <errno.h>
#include <stdio.h>

#include "dirtyrate/log.h"
#include "dirtyrate/sample.h"
#include "vmm/vm.h"

static int check_request(const struct dirtyrate_request *req, char *err,
			 size_t err_len)
{
	uint64_t window_ms = req->wss ? req->wss_max_ms : req->period_ms;

	if (window_ms < 1 || window_ms > DIRTYRATE_MAX_PERIOD_MS)
		snprintf(err, err_len, "the window must be from 1 ms to %u ms",
			 DIRTYRATE_MAX_PERIOD_MS);
	else if (req->mode == DIRTYRATE_SAMPLE && req->wss)
		snprintf(err, err_len,
			 "the working-set curve needs the dirty log: use mode bitmap or ring, not sample");
	else if (req->mode == DIRTYRATE_SAMPLE && req->per_vcpu)
		snprintf(err, err_len,
			 "per-vCPU counts need mode ring, not sample");
	else if (req->mode == DIRTYRATE_SAMPLE &&
		 (req->sample_pages < 1 ||
		  req->sample_pages > DIRTYRATE_MAX_SAMPLE_PAGES))
		snprintf(err, err_len,
			 "sample pages must be from 1 to %u per GiB",
			 DIRTYRATE_MAX_SAMPLE_PAGES);
	else if (req->range_gpa + req->range_bytes < req->range_gpa)
		snprintf(err, err_len, "the range wraps around");
	else
		return 0;
	return -EINVAL;
}

int dirtyrate_measure(struct vm *vm, const struct dirtyrate_request *req,
		      struct jw *reply, char *err, size_t err_len)
{
	enum vm_state state = vm_get_state(vm);

	err[0] = '\0';
	if (check_request(req, err, err_len))
		return -EINVAL;
	if (state != VM_RUNNING && state != VM_PAUSED) {
		snprintf(err, err_len, "the VM is not running (%s)",
			 vm_state_name(state));
		return -EINVAL;
	}
	if (req->mode == DIRTYRATE_SAMPLE)
		return dirtyrate_measure_sample(vm, req, reply, err, err_len);
	return dirtyrate_measure_log(vm, req, reply, err, err_len);
}
