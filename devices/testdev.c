// SPDX-License-Identifier: MIT
/*
 * The test device on the MMIO bus: registers, the doorbell, message
 * validation and the handling of each message into the model
 * (testdev_model.c), then the registry entry that puts the device on the
 * bus and in the device tree, reports its stats and names its migration
 * hooks (testdev_save.c). Guest-supplied lengths and addresses are checked
 * against limits and guest RAM before any copy, and every copy goes
 * through guest_mem_read/write/fill.
 */
#include "devices/testdev.h"

#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "devices/devices.h"
#include "devices/testdev_save.h"
#include "lib/json/json.h"
#include "lib/log.h"
#include "vmm/mem/bus.h"
#include "vmm/mem/memory.h"
#include "vmm/vm.h"

#define TESTDEV_MSG_ALIGN_BYTES 64u

union testdev_msg {
	struct testdev_msg_hdr hdr;
	struct testdev_hello hello;
	struct testdev_report report;
	struct testdev_result result;
	struct testdev_poll poll;
	struct testdev_fill fill;
};

/* Names of the error kinds, as logged and as keys of the "errors" stats. */
static const char *const testdev_err_kind_names[TESTDEV_ERR_NR_KINDS] = {
	[TESTDEV_ERR_ALIGN] = "align",
	[TESTDEV_ERR_NOT_RAM] = "not_ram",
	[TESTDEV_ERR_LENGTH] = "length",
	[TESTDEV_ERR_TYPE] = "type",
	[TESTDEV_ERR_VCPU] = "vcpu",
	[TESTDEV_ERR_FILL] = "fill",
	[TESTDEV_ERR_ACCESS] = "access",
};

/* Counts an error, logs the first of its kind, returns err. Lock held. */
__attribute__((format(printf, 4, 5))) static int
td_fail(struct testdev *td, enum testdev_err_kind kind, int err,
	const char *fmt, ...)
{
	char detail[192];
	va_list ap;

	td->errors[kind]++;
	if (td->logged[kind])
		return err;
	td->logged[kind] = true;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	log_err("testdev: %s (further '%s' errors are only counted)", detail,
		testdev_err_kind_names[kind]);
	return err;
}

size_t testdev_msg_size(uint32_t type)
{
	switch (type) {
	case TESTDEV_MSG_HELLO:
		return sizeof(struct testdev_hello);
	case TESTDEV_MSG_REPORT:
		return sizeof(struct testdev_report);
	case TESTDEV_MSG_RESULT:
		return sizeof(struct testdev_result);
	case TESTDEV_MSG_POLL:
		return sizeof(struct testdev_poll);
	case TESTDEV_MSG_FILL:
		return sizeof(struct testdev_fill);
	}
	return 0;
}

int testdev_msg_check(uint64_t gpa, const struct testdev_msg_hdr *hdr,
		      enum testdev_err_kind *kind)
{
	size_t need_bytes;

	if (gpa % TESTDEV_MSG_ALIGN_BYTES) {
		*kind = TESTDEV_ERR_ALIGN;
		return -EINVAL;
	}
	if (hdr->len_bytes < sizeof(*hdr) ||
	    hdr->len_bytes > TESTDEV_MSG_MAX_BYTES) {
		*kind = TESTDEV_ERR_LENGTH;
		return -EMSGSIZE;
	}
	need_bytes = testdev_msg_size(hdr->type);
	if (!need_bytes) {
		*kind = TESTDEV_ERR_TYPE;
		return -ENOMSG;
	}
	if (hdr->len_bytes < need_bytes) {
		*kind = TESTDEV_ERR_LENGTH;
		return -EMSGSIZE;
	}
	return 0;
}

static int handle_report(struct testdev *td, const struct testdev_report *r)
{
	struct testdev_vcpu *v;

	if (r->vcpu >= TESTDEV_MAX_VCPUS)
		return td_fail(td, TESTDEV_ERR_VCPU, -ERANGE,
			       "REPORT for vCPU %u, but indexes end at %u",
			       r->vcpu, TESTDEV_MAX_VCPUS - 1);
	v = &td->vcpus[r->vcpu];
	td->vcpus_used |= 1u << r->vcpu;
	v->ring[v->next] = *r;
	v->next = (v->next + 1) % TESTDEV_REPORT_RING;
	if (v->count < TESTDEV_REPORT_RING)
		v->count++;
	v->totals.reports++;
	v->totals.interval_pages_written += r->interval_pages_written;
	v->totals.interval_distinct_pages += r->interval_distinct_pages;
	td->totals.reports++;
	td->totals.interval_pages_written += r->interval_pages_written;
	td->totals.interval_distinct_pages += r->interval_distinct_pages;
	pthread_cond_broadcast(&td->reported);
	return 0;
}

/* Pops the oldest queued command into the guest's buffer. */
static int handle_poll(struct testdev *td, uint64_t gpa,
		       struct testdev_poll *p)
{
	int err;

	p->cmd = TESTDEV_CMD_NONE;
	p->reserved = 0;
	p->arg = 0;
	if (td->cmd_count) {
		p->cmd = td->cmds[td->cmd_head].cmd;
		p->arg = td->cmds[td->cmd_head].arg;
	}
	err = guest_mem_write(td->mem, gpa, p, sizeof(*p));
	if (err)
		return td_fail(td, TESTDEV_ERR_NOT_RAM, err,
			       "cannot write the POLL reply at gpa 0x%llx",
			       (unsigned long long)gpa);
	/* Dequeued only once delivered, so no command is lost. */
	if (td->cmd_count) {
		td->cmd_head = (td->cmd_head + 1) % TESTDEV_CMD_QUEUE;
		td->cmd_count--;
	}
	return 0;
}

static int handle_fill(struct testdev *td, const struct testdev_fill *f)
{
	if (f->byte > 0xff)
		return td_fail(td, TESTDEV_ERR_FILL, -EINVAL,
			       "FILL byte 0x%x is not a byte", f->byte);
	if (!guest_mem_is_ram(td->mem, f->gpa, f->len_bytes))
		return td_fail(td, TESTDEV_ERR_FILL, -EFAULT,
			       "FILL of %llu bytes at gpa 0x%llx is not RAM",
			       (unsigned long long)f->len_bytes,
			       (unsigned long long)f->gpa);
	td->fill_bytes += f->len_bytes;
	return guest_mem_fill(td->mem, f->gpa, (int)f->byte, f->len_bytes);
}

static int dispatch(struct testdev *td, uint64_t gpa, union testdev_msg *m)
{
	switch (m->hdr.type) {
	case TESTDEV_MSG_HELLO:
		td->hello = m->hello;
		td->have_hello = true;
		pthread_cond_broadcast(&td->reported);
		return 0;
	case TESTDEV_MSG_REPORT:
		return handle_report(td, &m->report);
	case TESTDEV_MSG_RESULT:
		/* The guest prints its own verdict on the serial port. */
		td->result = m->result;
		td->have_result = true;
		return 0;
	case TESTDEV_MSG_POLL:
		return handle_poll(td, gpa, &m->poll);
	case TESTDEV_MSG_FILL:
		return handle_fill(td, &m->fill);
	}
	return -ENOMSG; /* testdev_msg_check() let no other type through */
}

/* Validates, copies out and handles the message at gpa. Lock held. */
static int handle_doorbell(struct testdev *td, uint64_t gpa)
{
	const uint64_t hdr_bytes = sizeof(struct testdev_msg_hdr);
	enum testdev_err_kind kind;
	struct testdev_msg_hdr hdr;
	union testdev_msg m;
	int err;

	if (gpa % TESTDEV_MSG_ALIGN_BYTES)
		return td_fail(td, TESTDEV_ERR_ALIGN, -EINVAL,
			       "message at gpa 0x%llx is not %u-byte aligned",
			       (unsigned long long)gpa,
			       TESTDEV_MSG_ALIGN_BYTES);
	if (guest_mem_read(td->mem, gpa, &hdr, hdr_bytes))
		goto not_ram;
	err = testdev_msg_check(gpa, &hdr, &kind);
	if (err)
		return td_fail(td, kind, err,
			       "message at gpa 0x%llx: %s (type %u, len_bytes %u)",
			       (unsigned long long)gpa,
			       kind == TESTDEV_ERR_TYPE ? "unknown type" :
							  "bad length",
			       hdr.type, hdr.len_bytes);
	if (!guest_mem_is_ram(td->mem, gpa, hdr.len_bytes))
		goto not_ram;
	memset(&m, 0, sizeof(m));
	if (guest_mem_read(td->mem, gpa, &m, testdev_msg_size(hdr.type)))
		goto not_ram;
	/* Another vCPU may have changed the header since it was checked. */
	m.hdr = hdr;
	return dispatch(td, gpa, &m);

not_ram:
	return td_fail(td, TESTDEV_ERR_NOT_RAM, -EFAULT,
		       "message at gpa 0x%llx is not inside guest RAM",
		       (unsigned long long)gpa);
}

static bool read_reg(struct testdev *td, uint64_t offset, uint32_t len,
		     uint32_t *val)
{
	if (len != 4)
		return false;
	switch (offset) {
	case TESTDEV_REG_ID:
		*val = TESTDEV_ID;
		return true;
	case TESTDEV_REG_VERSION:
		*val = TESTDEV_VERSION;
		return true;
	case TESTDEV_REG_STATUS:
		*val = (uint32_t)td->status;
		return true;
	}
	return false;
}

int testdev_mmio_access(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write)
{
	struct testdev *td = opaque;
	uint32_t val = 0;

	pthread_mutex_lock(&td->lock);
	if (is_write && offset == TESTDEV_REG_DOORBELL && len == 8) {
		td->messages++;
		td->status = handle_doorbell(td, bus_data_get(data, len));
	} else if (is_write || !read_reg(td, offset, len, &val)) {
		td_fail(td, TESTDEV_ERR_ACCESS, 0,
			"ignored %u-byte %s at register offset 0x%llx", len,
			is_write ? "write" : "read",
			(unsigned long long)offset);
	}
	if (!is_write)
		bus_data_put(data, len, val);
	pthread_mutex_unlock(&td->lock);
	return 0;
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
