// SPDX-License-Identifier: MIT
/*
 * The test device's state as the rest of kvmtrack sees it: creation, the
 * locked accessors of testdev.h, the "stats" JSON and the registry entry
 * that puts the device on the MMIO bus and in the device tree.
 */
#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/devices.h"
#include "devices/testdev_model.h"
#include "vmm/mem/bus.h"
#include "lib/json/json.h"
#include "lib/log.h"
#include "vmm/vm.h"

int testdev_create(struct guest_mem *mem, struct testdev **out)
{
	struct testdev *td = calloc(1, sizeof(*td));
	pthread_condattr_t attr;

	if (!td)
		return -ENOMEM;
	td->vcpus = calloc(TESTDEV_MAX_VCPUS, sizeof(*td->vcpus));
	if (!td->vcpus) {
		free(td);
		return -ENOMEM;
	}
	pthread_mutex_init(&td->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&td->reported, &attr);
	pthread_condattr_destroy(&attr);
	td->mem = mem;
	*out = td;
	return 0;
}

void testdev_destroy(struct testdev *td)
{
	if (!td)
		return;
	pthread_cond_destroy(&td->reported);
	pthread_mutex_destroy(&td->lock);
	free(td->vcpus);
	free(td);
}

int testdev_latest_report(struct testdev *td, uint32_t vcpu,
			  struct testdev_report *out)
{
	const struct testdev_vcpu *v;
	int err = 0;

	if (vcpu >= TESTDEV_MAX_VCPUS)
		return -ERANGE;
	pthread_mutex_lock(&td->lock);
	v = &td->vcpus[vcpu];
	if (v->count)
		*out = *testdev_latest_of(v);
	else
		err = -ENOENT;
	pthread_mutex_unlock(&td->lock);
	return err;
}

unsigned int testdev_report_history(struct testdev *td, uint32_t vcpu,
				    struct testdev_report *out,
				    unsigned int max)
{
	const struct testdev_vcpu *v;
	unsigned int n, first;

	if (vcpu >= TESTDEV_MAX_VCPUS)
		return 0;
	pthread_mutex_lock(&td->lock);
	v = &td->vcpus[vcpu];
	n = v->count < max ? v->count : max;
	first = (v->next + TESTDEV_REPORT_RING - n) % TESTDEV_REPORT_RING;
	for (unsigned int i = 0; i < n; i++)
		out[i] = v->ring[(first + i) % TESTDEV_REPORT_RING];
	pthread_mutex_unlock(&td->lock);
	return n;
}

int testdev_totals(struct testdev *td, uint32_t vcpu,
		   struct testdev_totals *out)
{
	if (vcpu != UINT32_MAX && vcpu >= TESTDEV_MAX_VCPUS)
		return -ERANGE;
	pthread_mutex_lock(&td->lock);
	*out = vcpu == UINT32_MAX ? td->totals : td->vcpus[vcpu].totals;
	pthread_mutex_unlock(&td->lock);
	return 0;
}

/* Copies src to out if *have; the lock makes the copy whole. */
static int copy_if_have(struct testdev *td, const bool *have, void *out,
			const void *src, size_t len)
{
	int err = -ENOENT;

	pthread_mutex_lock(&td->lock);
	if (*have) {
		memcpy(out, src, len);
		err = 0;
	}
	pthread_mutex_unlock(&td->lock);
	return err;
}

int testdev_hello(struct testdev *td, struct testdev_hello *out)
{
	return copy_if_have(td, &td->have_hello, out, &td->hello,
			    sizeof(*out));
}

int testdev_result(struct testdev *td, struct testdev_result *out)
{
	return copy_if_have(td, &td->have_result, out, &td->result,
			    sizeof(*out));
}

int testdev_queue_cmd(struct testdev *td, uint32_t cmd, uint64_t arg)
{
	int err = 0;

	if (cmd != TESTDEV_CMD_STOP && cmd != TESTDEV_CMD_VERIFY &&
	    cmd != TESTDEV_CMD_CONTINUE)
		return -EINVAL;
	pthread_mutex_lock(&td->lock);
	if (td->cmd_count < TESTDEV_CMD_QUEUE) {
		unsigned int tail =
			(td->cmd_head + td->cmd_count) % TESTDEV_CMD_QUEUE;

		td->cmds[tail].cmd = cmd;
		td->cmds[tail].arg = arg;
		td->cmd_count++;
	} else {
		err = -ENOSPC;
	}
	pthread_mutex_unlock(&td->lock);
	return err;
}

/* now + ms on CLOCK_MONOTONIC, the clock of td->reported. */
static struct timespec deadline_after_ms(unsigned int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

int testdev_wait_reports(struct testdev *td, uint64_t min_reports,
			 unsigned int timeout_ms)
{
	struct timespec deadline = deadline_after_ms(timeout_ms);
	int err = 0;

	pthread_mutex_lock(&td->lock);
	while (td->totals.reports < min_reports && !err)
		err = pthread_cond_timedwait(&td->reported, &td->lock,
					     &deadline);
	if (td->totals.reports >= min_reports)
		err = 0;
	pthread_mutex_unlock(&td->lock);
	return err ? -ETIMEDOUT : 0;
}

int testdev_wait_hello(struct testdev *td, unsigned int timeout_ms)
{
	struct timespec deadline = deadline_after_ms(timeout_ms);
	int err = 0;

	pthread_mutex_lock(&td->lock);
	while (!td->have_hello && !err)
		err = pthread_cond_timedwait(&td->reported, &td->lock,
					     &deadline);
	err = td->have_hello ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&td->lock);
	return err;
}

int32_t testdev_status(struct testdev *td)
{
	int32_t status;

	pthread_mutex_lock(&td->lock);
	status = td->status;
	pthread_mutex_unlock(&td->lock);
	return status;
}

uint64_t testdev_error_count(struct testdev *td, enum testdev_err_kind kind)
{
	uint64_t n = 0;

	pthread_mutex_lock(&td->lock);
	if (kind < TESTDEV_ERR_NR_KINDS)
		n = td->errors[kind];
	pthread_mutex_unlock(&td->lock);
	return n;
}

/* --- registry entry --------------------------------------------------- */

static int testdev_init(struct vm *vm, void **state)
{
	struct testdev *td;
	int err = testdev_create(vm_mem(vm), &td);

	if (err)
		return err;
	err = bus_register(vm_bus(vm), BUS_MMIO, TESTDEV_MMIO_BASE,
			   TESTDEV_MMIO_SIZE, "testdev", testdev_mmio_access,
			   td);
	if (err) {
		log_err("testdev: cannot claim MMIO 0x%llx+0x%llx: %s",
			TESTDEV_MMIO_BASE, TESTDEV_MMIO_SIZE, strerror(-err));
		testdev_destroy(td);
		return err;
	}
	*state = td;
	return 0;
}

static int testdev_fdt_node(void *state, void *fdt)
{
	const fdt32_t reg[4] = {
		cpu_to_fdt32(0), cpu_to_fdt32((uint32_t)TESTDEV_MMIO_BASE),
		cpu_to_fdt32(0), cpu_to_fdt32((uint32_t)TESTDEV_MMIO_SIZE),
	};
	int node = fdt_add_subnode(fdt, 0, "testdev@d0000000");
	int err = node < 0 ? node : 0;

	if (!err)
		err = fdt_setprop_string(fdt, node, "compatible",
					 "kvmtrack,testdev");
	if (!err)
		err = fdt_setprop(fdt, node, "reg", reg, sizeof(reg));
	if (!err)
		return 0;
	log_err("testdev: cannot add /testdev@d0000000 to the device tree: %s",
		fdt_strerror(err));
	return err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
}

static void stats_totals(struct jw *w, const struct testdev_totals *t)
{
	jw_u64(w, "reports", t->reports);
	jw_u64(w, "sum_interval_pages_written", t->interval_pages_written);
	jw_u64(w, "sum_interval_distinct_pages", t->interval_distinct_pages);
}

static void stats_vcpus(struct testdev *td, struct jw *w)
{
	jw_array_begin(w, "vcpus");
	for (uint32_t i = 0; i < TESTDEV_MAX_VCPUS; i++) {
		const struct testdev_vcpu *v = &td->vcpus[i];
		const struct testdev_report *r;

		if (!v->count)
			continue;
		r = testdev_latest_of(v);
		jw_object_begin(w, NULL);
		jw_u64(w, "vcpu", i);
		jw_u64(w, "seq", r->seq);
		jw_u64(w, "tsc_start", r->tsc_start);
		jw_u64(w, "tsc_end", r->tsc_end);
		jw_u64(w, "interval_pages_written", r->interval_pages_written);
		jw_u64(w, "interval_distinct_pages",
		       r->interval_distinct_pages);
		jw_u64(w, "total_pages_written", r->total_pages_written);
		jw_u64(w, "generation", r->generation);
		stats_totals(w, &v->totals);
		jw_object_end(w);
	}
	jw_array_end(w);
}

struct stats_field {
	const char *name;
	uint64_t val;
};

/* An object of the given fields under key, or null when !have. */
static void stats_object(struct jw *w, const char *key, bool have,
			 const struct stats_field *fields, size_t nr_fields)
{
	if (!have) {
		jw_null(w, key);
		return;
	}
	jw_object_begin(w, key);
	for (size_t i = 0; i < nr_fields; i++)
		jw_u64(w, fields[i].name, fields[i].val);
	jw_object_end(w);
}

static void stats_hello_result(struct testdev *td, struct jw *w)
{
	const struct stats_field hello[] = {
		{ "nr_cpus", td->hello.nr_cpus },
		{ "workload", td->hello.workload },
		{ "wss_bytes", td->hello.wss_bytes },
		{ "wss_base_gpa", td->hello.wss_base_gpa },
	};
	const struct stats_field result[] = {
		{ "status", td->result.status },
		{ "pages_checked", td->result.pages_checked },
		{ "pages_bad", td->result.pages_bad },
		{ "first_bad_gpa", td->result.first_bad_gpa },
	};

	stats_object(w, "hello", td->have_hello, hello,
		     sizeof(hello) / sizeof(hello[0]));
	stats_object(w, "result", td->have_result, result,
		     sizeof(result) / sizeof(result[0]));
}

static void testdev_stats(void *state, struct jw *w)
{
	struct testdev *td = state;
	uint64_t total_errors = 0;

	pthread_mutex_lock(&td->lock);
	jw_u64(w, "messages", td->messages);
	jw_i64(w, "status", td->status);
	stats_hello_result(td, w);
	stats_totals(w, &td->totals);
	stats_vcpus(td, w);
	jw_u64(w, "fill_bytes", td->fill_bytes);
	jw_u64(w, "queued_cmds", td->cmd_count);
	jw_object_begin(w, "errors");
	for (int k = 0; k < TESTDEV_ERR_NR_KINDS; k++) {
		jw_u64(w, testdev_err_kind_names[k], td->errors[k]);
		total_errors += td->errors[k];
	}
	jw_u64(w, "total", total_errors);
	jw_object_end(w);
	pthread_mutex_unlock(&td->lock);
}

static void testdev_exit(void *state)
{
	testdev_destroy(state);
}

const struct device_ops testdev_ops = {
	.name = "testdev",
	.init = testdev_init,
	.fdt_node = testdev_fdt_node,
	.stats = testdev_stats,
	.exit = testdev_exit,
	.state_version = TESTDEV_STATE_VERSION,
	.save = testdev_save,
	.load = testdev_load,
};

struct testdev *testdev_of(struct vm *vm)
{
	return vm_device_state(vm, &testdev_ops);
}
