// SPDX-License-Identifier: MIT
/*
 * The test device against real guest memory (no /dev/kvm):
 * registers, message validation, each message type, the report ring and
 * command queue, stats, and the device-tree nodes of all devices.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <libfdt.h>
#include <pthread.h>
#include <string.h>

#include "devices/devices.h"
#include "devices/registry.h"
#include "devices/testdev.h"
#include "devices/testdev_model.h"
#include "lib/json/json.h"
#include "vmm/mem/bus.h"
#include "vmm/mem/memory.h"

#define RAM_BYTES (4ull << 20)
#define MSG_GPA 0x10000ull

static struct guest_mem mem;
static struct testdev *td;

static void setup(void)
{
	cr_assert_eq(guest_mem_create(&mem, RAM_BYTES), 0);
	cr_assert_eq(testdev_create(&mem, &td), 0);
}

static void teardown(void)
{
	testdev_destroy(td);
	guest_mem_destroy(&mem);
}

TestSuite(testdev, .init = setup, .fini = teardown);

static uint32_t reg_read32(uint64_t offset)
{
	uint8_t data[4];

	cr_assert_eq(testdev_mmio_access(td, offset, data, 4, false), 0);
	return (uint32_t)bus_data_get(data, 4);
}

/* Rings the doorbell with gpa; returns STATUS as the guest reads it. */
static int32_t ring(uint64_t gpa)
{
	uint8_t data[8];

	bus_data_put(data, 8, gpa);
	cr_assert_eq(testdev_mmio_access(td, TESTDEV_REG_DOORBELL, data, 8,
					 true),
		     0, "a bad message must not stop the VM");
	return (int32_t)reg_read32(TESTDEV_REG_STATUS);
}

static int32_t send(uint64_t gpa, const void *msg, size_t len)
{
	cr_assert_eq(guest_mem_write(&mem, gpa, msg, len), 0);
	return ring(gpa);
}

static int32_t send_report(uint32_t vcpu, uint32_t seq, uint64_t pages,
			   uint64_t distinct)
{
	struct testdev_report r = {
		.hdr = { TESTDEV_MSG_REPORT, sizeof(r) },
		.vcpu = vcpu,
		.seq = seq,
		.interval_pages_written = pages,
		.interval_distinct_pages = distinct,
	};

	return send(MSG_GPA, &r, sizeof(r));
}

Test(testdev, identity_registers)
{
	cr_assert_eq(reg_read32(TESTDEV_REG_ID), TESTDEV_ID);
	cr_assert_eq(reg_read32(TESTDEV_REG_VERSION), TESTDEV_VERSION);
	cr_assert_eq(reg_read32(TESTDEV_REG_STATUS), 0);
	cr_assert_eq(testdev_error_count(td, TESTDEV_ERR_ACCESS), 0);
}

Test(testdev, bad_accesses_are_ignored_and_counted)
{
	uint8_t data[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	/* ID with the wrong width reads 0. */
	cr_assert_eq(testdev_mmio_access(td, TESTDEV_REG_ID, data, 8, false),
		     0);
	cr_assert_eq(bus_data_get(data, 8), 0);
	cr_assert_eq(reg_read32(0x800), 0);
	/* A 32-bit doorbell write is no doorbell. */
	bus_data_put(data, 4, MSG_GPA);
	cr_assert_eq(testdev_mmio_access(td, TESTDEV_REG_DOORBELL, data, 4,
					 true),
		     0);
	cr_assert_eq(testdev_error_count(td, TESTDEV_ERR_ACCESS), 3);
	cr_assert_eq(testdev_status(td), 0);
}

Test(testdev, msg_check_rejects_bad_headers)
{
	struct testdev_msg_hdr hdr = { TESTDEV_MSG_REPORT,
				       sizeof(struct testdev_report) };
	enum testdev_err_kind kind = TESTDEV_ERR_NR_KINDS;

	cr_assert_eq(testdev_msg_check(0x1000, &hdr, &kind), 0);
	cr_assert_eq(testdev_msg_check(0x1020, &hdr, &kind), -EINVAL);
	cr_assert_eq(kind, TESTDEV_ERR_ALIGN);
	hdr.len_bytes = sizeof(struct testdev_report) - 1;
	cr_assert_eq(testdev_msg_check(0x1000, &hdr, &kind), -EMSGSIZE);
	cr_assert_eq(kind, TESTDEV_ERR_LENGTH);
	hdr.len_bytes = 4;
	cr_assert_eq(testdev_msg_check(0x1000, &hdr, &kind), -EMSGSIZE);
	hdr.len_bytes = TESTDEV_MSG_MAX_BYTES + 1;
	cr_assert_eq(testdev_msg_check(0x1000, &hdr, &kind), -EMSGSIZE);
	hdr.len_bytes = TESTDEV_MSG_MAX_BYTES;
	cr_assert_eq(testdev_msg_check(0x1000, &hdr, &kind), 0);
	hdr.type = 99;
	kind = TESTDEV_ERR_NR_KINDS;
	cr_assert_eq(testdev_msg_check(0x1000, &hdr, &kind), -ENOMSG);
	cr_assert_eq(kind, TESTDEV_ERR_TYPE);
	cr_assert_eq(testdev_msg_size(TESTDEV_MSG_FILL),
		     sizeof(struct testdev_fill));
	cr_assert_eq(testdev_msg_size(0), 0);
}

Test(testdev, doorbell_rejects_bad_messages)
{
	struct testdev_hello h = { .hdr = { TESTDEV_MSG_HELLO, sizeof(h) } };
	struct testdev_hello out;

	cr_assert_eq(send(MSG_GPA + 8, &h, sizeof(h)), -EINVAL);
	/* Outside RAM, and straddling its end. */
	cr_assert_eq(ring(RAM_BYTES + 0x1000), -EFAULT);
	h.hdr.len_bytes = 128;
	cr_assert_eq(send(RAM_BYTES - 64, &h, sizeof(h)), -EFAULT);
	h.hdr.len_bytes = 3;
	cr_assert_eq(send(MSG_GPA, &h, sizeof(h)), -EMSGSIZE);
	h.hdr.type = 42;
	h.hdr.len_bytes = sizeof(h);
	cr_assert_eq(send(MSG_GPA, &h, sizeof(h)), -ENOMSG);
	cr_assert_eq(testdev_hello(td, &out), -ENOENT);
	cr_assert_eq(testdev_error_count(td, TESTDEV_ERR_ALIGN), 1);
	cr_assert_eq(testdev_error_count(td, TESTDEV_ERR_NOT_RAM), 2);
	cr_assert_eq(testdev_error_count(td, TESTDEV_ERR_LENGTH), 1);
	cr_assert_eq(testdev_error_count(td, TESTDEV_ERR_TYPE), 1);
	/* A good message clears STATUS again. */
	h.hdr.type = TESTDEV_MSG_HELLO;
	cr_assert_eq(send(MSG_GPA, &h, sizeof(h)), 0);
}

Test(testdev, hello_and_result_are_kept)
{
	struct testdev_hello h = {
		.hdr = { TESTDEV_MSG_HELLO, sizeof(h) },
		.nr_cpus = 4,
		.workload = TESTDEV_WL_RANDOM,
		.wss_bytes = 1 << 20,
		.wss_base_gpa = 0x200000,
	};
	struct testdev_result r = {
		.hdr = { TESTDEV_MSG_RESULT, sizeof(r) },
		.pages_checked = 256,
		.pages_bad = 1,
		.first_bad_gpa = 0x201000,
	};
	struct testdev_hello h_out;
	struct testdev_result r_out;

	cr_assert_eq(testdev_result(td, &r_out), -ENOENT);
	cr_assert_eq(send(MSG_GPA, &h, sizeof(h)), 0);
	cr_assert_eq(send(MSG_GPA + 64, &r, sizeof(r)), 0);
	cr_assert_eq(testdev_hello(td, &h_out), 0);
	cr_assert_eq(memcmp(&h, &h_out, sizeof(h)), 0);
	cr_assert_eq(testdev_result(td, &r_out), 0);
	cr_assert_eq(r_out.first_bad_gpa, 0x201000);
	cr_assert_eq(r_out.pages_checked, 256);
}

Test(testdev, reports_latest_and_totals)
{
	struct testdev_report latest;
	struct testdev_totals t;

	cr_assert_eq(testdev_latest_report(td, 1, &latest), -ENOENT);
	cr_assert_eq(send_report(1, 0, 100, 40), 0);
	cr_assert_eq(send_report(1, 1, 50, 10), 0);
	cr_assert_eq(send_report(2, 0, 7, 7), 0);
	cr_assert_eq(testdev_latest_report(td, 1, &latest), 0);
	cr_assert_eq(latest.seq, 1);
	cr_assert_eq(latest.interval_pages_written, 50);
	cr_assert_eq(testdev_totals(td, 1, &t), 0);
	cr_assert_eq(t.reports, 2);
	cr_assert_eq(t.interval_pages_written, 150);
	cr_assert_eq(t.interval_distinct_pages, 50);
	cr_assert_eq(testdev_totals(td, UINT32_MAX, &t), 0);
	cr_assert_eq(t.reports, 3);
	cr_assert_eq(t.interval_pages_written, 157);
	cr_assert_eq(testdev_latest_report(td, TESTDEV_MAX_VCPUS, &latest),
		     -ERANGE);
	/* A vCPU index out of range is refused, not stored. */
	cr_assert_eq(send_report(TESTDEV_MAX_VCPUS, 0, 1, 1), -ERANGE);
	cr_assert_eq(testdev_totals(td, UINT32_MAX, &t), 0);
	cr_assert_eq(t.reports, 3);
}

Test(testdev, report_ring_keeps_the_last_256)
{
	static struct testdev_report hist[TESTDEV_REPORT_RING + 8];
	unsigned int n;

	for (uint32_t seq = 0; seq < 300; seq++)
		cr_assert_eq(send_report(0, seq, seq, 1), 0);
	n = testdev_report_history(td, 0, hist, TESTDEV_REPORT_RING + 8);
	cr_assert_eq(n, TESTDEV_REPORT_RING);
	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(hist[i].seq, 300 - TESTDEV_REPORT_RING + i);
	n = testdev_report_history(td, 0, hist, 3);
	cr_assert_eq(n, 3);
	cr_assert_eq(hist[0].seq, 297);
	cr_assert_eq(hist[2].seq, 299);
	cr_assert_eq(testdev_report_history(td, 5, hist, 3), 0);
}

static struct testdev_poll poll_once(void)
{
	struct testdev_poll p = { .hdr = { TESTDEV_MSG_POLL, sizeof(p) },
				  .cmd = 77,
				  .arg = 77 };

	cr_assert_eq(send(MSG_GPA, &p, sizeof(p)), 0);
	cr_assert_eq(guest_mem_read(&mem, MSG_GPA, &p, sizeof(p)), 0);
	cr_assert_eq(p.hdr.type, TESTDEV_MSG_POLL, "header overwritten");
	cr_assert_eq(p.hdr.len_bytes, sizeof(p));
	return p;
}

Test(testdev, poll_delivers_queued_commands_in_order)
{
	struct testdev_poll p = poll_once();

	cr_assert_eq(p.cmd, TESTDEV_CMD_NONE);
	cr_assert_eq(p.arg, 0);
	cr_assert_eq(testdev_queue_cmd(td, TESTDEV_CMD_STOP, 7), 0);
	cr_assert_eq(testdev_queue_cmd(td, TESTDEV_CMD_VERIFY, 9), 0);
	p = poll_once();
	cr_assert_eq(p.cmd, TESTDEV_CMD_STOP);
	cr_assert_eq(p.arg, 7);
	p = poll_once();
	cr_assert_eq(p.cmd, TESTDEV_CMD_VERIFY);
	cr_assert_eq(p.arg, 9);
	cr_assert_eq(poll_once().cmd, TESTDEV_CMD_NONE);
}

Test(testdev, continue_carries_its_percentage)
{
	struct testdev_poll p;

	cr_assert_eq(testdev_queue_cmd(td, TESTDEV_CMD_CONTINUE, 37), 0);
	p = poll_once();
	cr_assert_eq(p.cmd, TESTDEV_CMD_CONTINUE);
	cr_assert_eq(p.arg, 37);
}

Test(testdev, wait_reports_returns_once_enough_arrived)
{
	cr_assert_eq(testdev_wait_reports(td, 1, 10), -ETIMEDOUT);
	cr_assert_eq(testdev_wait_hello(td, 10), -ETIMEDOUT);
	cr_assert_eq(send_report(0, 0, 1, 1), 0);
	cr_assert_eq(send_report(1, 0, 1, 1), 0);
	cr_assert_eq(testdev_wait_reports(td, 2, 10), 0);
	cr_assert_eq(testdev_wait_reports(td, 3, 10), -ETIMEDOUT);
}

Test(testdev, command_queue_limits)
{
	cr_assert_eq(testdev_queue_cmd(td, 12345, 0), -EINVAL);
	cr_assert_eq(testdev_queue_cmd(td, TESTDEV_CMD_NONE, 0), -EINVAL);
	for (int i = 0; i < TESTDEV_CMD_QUEUE; i++)
		cr_assert_eq(testdev_queue_cmd(td, TESTDEV_CMD_STOP, i), 0);
	cr_assert_eq(testdev_queue_cmd(td, TESTDEV_CMD_STOP, 0), -ENOSPC);
	cr_assert_eq(poll_once().arg, 0);
	cr_assert_eq(testdev_queue_cmd(td, TESTDEV_CMD_VERIFY, 99), 0);
}

Test(testdev, fill_writes_guest_ram)
{
	struct testdev_fill f = {
		.hdr = { TESTDEV_MSG_FILL, sizeof(f) },
		.gpa = 0x20000,
		.len_bytes = 3 * GUEST_PAGE_BYTES,
		.byte = 0xa5,
	};
	uint8_t page[GUEST_PAGE_BYTES * 3 + 1];

	cr_assert_eq(send(MSG_GPA, &f, sizeof(f)), 0);
	cr_assert_eq(guest_mem_read(&mem, f.gpa, page, sizeof(page)), 0);
	for (size_t i = 0; i < f.len_bytes; i++)
		cr_assert_eq(page[i], 0xa5, "byte %zu not filled", i);
	cr_assert_eq(page[f.len_bytes], 0, "fill overran its range");
}

Test(testdev, fill_refuses_targets_outside_ram)
{
	struct testdev_fill f = {
		.hdr = { TESTDEV_MSG_FILL, sizeof(f) },
		.gpa = RAM_BYTES - GUEST_PAGE_BYTES,
		.len_bytes = 2 * GUEST_PAGE_BYTES,
		.byte = 0x11,
	};
	uint8_t last;

	cr_assert_eq(send(MSG_GPA, &f, sizeof(f)), -EFAULT);
	cr_assert_eq(guest_mem_read(&mem, RAM_BYTES - 1, &last, 1), 0);
	cr_assert_eq(last, 0, "a refused fill wrote RAM");
	f.gpa = UINT64_MAX - 10;
	f.len_bytes = 20;
	cr_assert_eq(send(MSG_GPA, &f, sizeof(f)), -EFAULT);
	f.gpa = 0x20000;
	f.byte = 0x100;
	cr_assert_eq(send(MSG_GPA, &f, sizeof(f)), -EINVAL);
	cr_assert_eq(testdev_error_count(td, TESTDEV_ERR_FILL), 3);
}

Test(testdev, stats_report_state)
{
	const struct json_value *v, *vcpus, *errors;
	struct json_value *root;
	struct jw w;
	const char *text;
	uint64_t n;
	char err[128];

	cr_assert_eq(send_report(3, 5, 10, 4), 0);
	cr_assert_eq(ring(MSG_GPA + 1), -EINVAL);
	jw_init(&w);
	jw_object_begin(&w, NULL);
	testdev_ops.stats(td, &w);
	jw_object_end(&w);
	text = jw_finish(&w);
	cr_assert_not_null(text);
	cr_assert_eq(json_parse(text, strlen(text), &root, err, sizeof(err)),
		     0, "%s: %s", err, text);
	cr_assert_eq(json_get_u64(root, "reports", &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(json_get(root, "hello")->type, JSON_NULL);
	vcpus = json_get(root, "vcpus");
	cr_assert_eq(vcpus->nr_items, 1);
	v = vcpus->items[0];
	cr_assert_eq(json_get_u64(v, "vcpu", &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(json_get_u64(v, "interval_distinct_pages", &n), 0);
	cr_assert_eq(n, 4);
	errors = json_get(root, "errors");
	cr_assert_eq(json_get_u64(errors, "align", &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(json_get_u64(errors, "total", &n), 0);
	cr_assert_eq(n, 1);
	json_free(root);
	jw_free(&w);
}

#define HAMMER_THREADS 4
#define HAMMER_REPORTS 500

/* One "vCPU" thread: its own message buffer, its own vCPU index. */
static void *hammer(void *arg)
{
	uint32_t vcpu = (uint32_t)(uintptr_t)arg;
	uint64_t gpa = MSG_GPA + vcpu * 0x1000;
	struct testdev_report r = {
		.hdr = { TESTDEV_MSG_REPORT, sizeof(r) },
		.vcpu = vcpu,
		.interval_pages_written = 3,
		.interval_distinct_pages = 1,
	};
	uint8_t data[8];

	for (uint32_t seq = 0; seq < HAMMER_REPORTS; seq++) {
		r.seq = seq;
		if (guest_mem_write(&mem, gpa, &r, sizeof(r)))
			return (void *)1;
		bus_data_put(data, 8, gpa);
		testdev_mmio_access(td, TESTDEV_REG_DOORBELL, data, 8, true);
	}
	return NULL;
}

Test(testdev, concurrent_vcpus_lose_no_report)
{
	pthread_t threads[HAMMER_THREADS];
	struct testdev_report latest;
	struct testdev_totals t;
	void *ret;

	for (uintptr_t i = 0; i < HAMMER_THREADS; i++)
		cr_assert_eq(pthread_create(&threads[i], NULL, hammer,
					    (void *)i),
			     0);
	for (int i = 0; i < HAMMER_THREADS; i++) {
		cr_assert_eq(pthread_join(threads[i], &ret), 0);
		cr_assert_null(ret);
	}
	cr_assert_eq(testdev_totals(td, UINT32_MAX, &t), 0);
	cr_assert_eq(t.reports, HAMMER_THREADS * HAMMER_REPORTS);
	cr_assert_eq(t.interval_pages_written,
		     3 * HAMMER_THREADS * HAMMER_REPORTS);
	for (uint32_t v = 0; v < HAMMER_THREADS; v++) {
		cr_assert_eq(testdev_latest_report(td, v, &latest), 0);
		cr_assert_eq(latest.seq, HAMMER_REPORTS - 1);
	}
	cr_assert_eq(testdev_status(td), 0);
}

static void *new_fdt(void)
{
	static char buf[4096];

	cr_assert_eq(fdt_create_empty_tree(buf, sizeof(buf)), 0);
	return buf;
}

static uint32_t prop_u32(const void *fdt, int node, const char *name)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	cr_assert_not_null(p, "no %s", name);
	cr_assert_eq(len, 4, "%s is %d bytes", name, len);
	return fdt32_to_cpu(*p);
}

Test(device_tree, nodes_follow_machine_md)
{
	void *fdt = new_fdt();
	const fdt32_t *reg;
	int node, len;

	cr_assert_eq(uart16550_ops.fdt_node(NULL, fdt), 0);
	cr_assert_eq(debug_exit_ops.fdt_node(NULL, fdt), 0);
	cr_assert_eq(testdev_ops.fdt_node(NULL, fdt), 0);

	node = fdt_path_offset(fdt, "/serial@3f8");
	cr_assert_geq(node, 0);
	cr_assert_str_eq(fdt_getprop(fdt, node, "compatible", NULL),
			 "ns16550a");
	cr_assert_eq(prop_u32(fdt, node, "kvmtrack,ioport"), 0x3f8);
	cr_assert_eq(prop_u32(fdt, node, "interrupts"), 4);
	cr_assert_eq(prop_u32(fdt, node, "clock-frequency"), 1843200);

	node = fdt_path_offset(fdt, "/debug-exit@501");
	cr_assert_geq(node, 0);
	cr_assert_str_eq(fdt_getprop(fdt, node, "compatible", NULL),
			 "kvmtrack,debug-exit");
	cr_assert_eq(prop_u32(fdt, node, "kvmtrack,ioport"), 0x501);

	node = fdt_path_offset(fdt, "/testdev@d0000000");
	cr_assert_geq(node, 0);
	cr_assert_str_eq(fdt_getprop(fdt, node, "compatible", NULL),
			 "kvmtrack,testdev");
	reg = fdt_getprop(fdt, node, "reg", &len);
	cr_assert_eq(len, 16);
	cr_assert_eq(fdt32_to_cpu(reg[0]), 0);
	cr_assert_eq(fdt32_to_cpu(reg[1]), 0xd0000000);
	cr_assert_eq(fdt32_to_cpu(reg[2]), 0);
	cr_assert_eq(fdt32_to_cpu(reg[3]), 0x1000);
}

Test(device_tree, registry_lists_every_device)
{
	cr_assert_eq(device_table_len, 7);
	cr_assert_eq(device_table[0], &uart16550_ops);
	cr_assert_eq(device_table[1], &debug_exit_ops);
	cr_assert_eq(device_table[2], &testdev_ops);
	cr_assert_eq(device_table[3], &i8042_ops);
	cr_assert_eq(device_table[4], &cmos_rtc_ops);
	cr_assert_eq(device_table[5], &pci_host_ops);
	cr_assert_eq(device_table[6], &isa_absent_ops);
	for (unsigned int i = 0; i < device_table_len; i++) {
		cr_assert_not_null(device_table[i]->init);
		cr_assert_not_null(device_table[i]->exit);
	}
}
