// SPDX-License-Identifier: MIT
/*
 * The machine-state stream's encoders and decoders without /dev/kvm: a
 * vCPU snapshot, the UART model and the test device each survive a round
 * trip field for field, and every truncation or impossible value of their
 * input is refused with -EBADMSG/-EINVAL and a message naming the field.
 * (Stream framing, versions and the vCPU count need a VM to load into:
 * tests/kvm/test_vm_state.c.)
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "devices/testdev_model.h"
#include "devices/testdev_save.h"
#include "devices/uart_model.h"
#include "kvm/vcpu_snapshot.h"
#include "lib/wire.h"
#include "migrate/vcpu_codec.h"

/* A snapshot with a distinct value in every field that travels. */
static void fill_vcpu(struct vcpu_snapshot *s)
{
	static struct kvm_msr_entry msrs[3] = {
		{ .index = 0x10, .data = 123456789 },
		{ .index = 0x6e0, .data = 0 },
		{ .index = 0x4b564d01, .data = 0x1001 },
	};
	uint8_t *raw;

	memset(s, 0, sizeof(*s));
	s->index = 1;
	s->mp_state = KVM_MP_STATE_HALTED;
	raw = (uint8_t *)&s->regs;
	for (size_t i = 0; i < sizeof(s->regs); i++)
		raw[i] = (uint8_t)(i * 7 + 1);
	s->sregs.cs = (struct kvm_segment){ .base = 1, .limit = 0xfffff,
					    .selector = 0x8, .type = 11,
					    .present = 1, .l = 1, .g = 1 };
	s->sregs.tr.limit = 0x67;
	s->sregs.ldt.unusable = 1;
	s->sregs.gdt.base = 0x5000;
	s->sregs.gdt.limit = 23;
	s->sregs.cr0 = 0x80050033;
	s->sregs.efer = 0x500;
	s->sregs.apic_base = 0xfee00900;
	s->sregs.interrupt_bitmap[3] = 1ull << 63;
	s->has_xsave = true;
	s->xsave_bytes = sizeof(struct kvm_xsave);
	s->xsave = calloc(1, s->xsave_bytes);
	for (size_t i = 0; i < s->xsave_bytes; i++)
		((uint8_t *)s->xsave)[i] = (uint8_t)(i ^ 0x5a);
	s->has_xcrs = true;
	s->xcrs.nr_xcrs = 1;
	s->xcrs.xcrs[0].value = 7;
	s->debugregs.dr6 = 0xffff0ff0;
	s->debugregs.dr7 = 0x400;
	for (size_t i = 0; i < sizeof(s->lapic.regs); i++)
		s->lapic.regs[i] = (char)(i * 3);
	s->nr_msrs = 3;
	s->msrs = malloc(sizeof(msrs));
	memcpy(s->msrs, msrs, sizeof(msrs));
	s->events.exception.pending = 1;
	s->events.exception.nr = 14;
	s->events.interrupt.shadow = 1;
	s->events.flags = KVM_VCPUEVENT_VALID_SHADOW;
	s->events.exception_payload = 0xdead;
}

Test(vcpu_wire, round_trip_keeps_every_field)
{
	struct vcpu_snapshot a, b;
	struct wbuf w;
	struct rbuf r;
	char err[128] = "";

	fill_vcpu(&a);
	wbuf_init(&w);
	vcpu_snapshot_encode(&a, &w);
	cr_assert_eq(w.err, 0);
	rbuf_init(&r, w.data, w.len);
	cr_assert_eq(vcpu_snapshot_decode(&r, &b, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(rbuf_left(&r), 0);
	cr_expect_eq(b.index, a.index);
	cr_expect_eq(b.mp_state, a.mp_state);
	cr_expect(!memcmp(&a.regs, &b.regs, sizeof(a.regs)));
	cr_expect(!memcmp(&a.sregs, &b.sregs, sizeof(a.sregs)));
	cr_expect(!memcmp(a.xsave, b.xsave, a.xsave_bytes));
	cr_expect(!memcmp(&a.xcrs, &b.xcrs, sizeof(a.xcrs)));
	cr_expect(!memcmp(&a.debugregs, &b.debugregs, sizeof(a.debugregs)));
	cr_expect(!memcmp(&a.lapic, &b.lapic, sizeof(a.lapic)));
	cr_assert_eq(b.nr_msrs, 3);
	cr_expect(!memcmp(a.msrs, b.msrs, 3 * sizeof(*a.msrs)));
	cr_expect(!memcmp(&a.events, &b.events, sizeof(a.events)));
	vcpu_snapshot_free(&a);
	vcpu_snapshot_free(&b);
	wbuf_free(&w);
}

Test(vcpu_wire, every_truncation_is_refused)
{
	struct vcpu_snapshot a, b;
	struct wbuf w;

	fill_vcpu(&a);
	wbuf_init(&w);
	vcpu_snapshot_encode(&a, &w);
	for (size_t len = 0; len < w.len; len++) {
		struct rbuf r;
		char err[128] = "";
		int ret;

		rbuf_init(&r, w.data, len);
		ret = vcpu_snapshot_decode(&r, &b, err, sizeof(err));
		vcpu_snapshot_free(&b);
		cr_assert_eq(ret, -EBADMSG, "cut at %zu of %zu: %d (%s)", len,
			     w.len, ret, err);
		cr_assert(strstr(err, "truncated"), "cut at %zu: '%s'", len,
			  err);
	}
	vcpu_snapshot_free(&a);
	wbuf_free(&w);
}

/* Overwrites the u32 at byte offset `at` of an encoded vCPU. */
static int decode_patched(const struct wbuf *w, size_t at, uint32_t v,
			  char *err, size_t err_len)
{
	uint8_t *copy = malloc(w->len);
	struct vcpu_snapshot s;
	struct rbuf r;
	int ret;

	memcpy(copy, w->data, w->len);
	memcpy(copy + at, &v, 4); /* this test runs on little-endian x86 */
	rbuf_init(&r, copy, w->len);
	ret = vcpu_snapshot_decode(&r, &s, err, err_len);
	vcpu_snapshot_free(&s);
	free(copy);
	return ret;
}

Test(vcpu_wire, impossible_lengths_are_refused_by_name)
{
	/* index, mp_state, 18 regs, 8 segments of 23, 2 dtables of 10,
	 * 7 control registers, the interrupt bitmap, then the fpu kind. */
	const size_t xsave_len_at = 4 + 4 + 18 * 8 + 8 * 23 + 2 * 10 + 7 * 8 +
				    4 * 8 + 1;
	const size_t xcrs_at = xsave_len_at + 4 + sizeof(struct kvm_xsave);
	const size_t lapic_len_at = xcrs_at + 1 + 4 + 4 + 12 + 7 * 8;
	const size_t msrs_at = lapic_len_at + 4 + 1024;
	struct vcpu_snapshot a;
	struct wbuf w;
	char err[128] = "";

	fill_vcpu(&a);
	wbuf_init(&w);
	vcpu_snapshot_encode(&a, &w);
	cr_expect_eq(decode_patched(&w, xsave_len_at, 100, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "xsave length 100"), "%s", err);
	cr_expect_eq(decode_patched(&w, xsave_len_at, 1u << 30, err,
				    sizeof(err)),
		     -EINVAL);
	cr_expect_eq(decode_patched(&w, xcrs_at + 1, 17, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "xcrs count 17"), "%s", err);
	cr_expect_eq(decode_patched(&w, lapic_len_at, 1000, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "lapic length 1000"), "%s", err);
	cr_expect_eq(decode_patched(&w, msrs_at, 5000, err, sizeof(err)),
		     -EINVAL);
	cr_expect(strstr(err, "msrs count 5000"), "%s", err);
	cr_expect_eq(decode_patched(&w, msrs_at, 200, err, sizeof(err)),
		     -EBADMSG);
	cr_expect(strstr(err, "msrs truncated"), "%s", err);
	vcpu_snapshot_free(&a);
	wbuf_free(&w);
}

/* --- UART ----------------------------------------------------------------- */

static int irq_calls;

static void count_irq(void *opaque, int level)
{
	irq_calls++;
}

Test(uart_state, round_trip_keeps_registers_fifo_and_irq)
{
	struct uart16550 a, b;
	const uint8_t in[] = "hello";
	struct wbuf w;
	struct rbuf r;
	char err[128] = "";

	uart_init(&a, NULL, count_irq, NULL);
	uart_write(&a, UART_LCR, UART_LCR_DLAB);
	uart_write(&a, UART_DLL, 1);
	uart_write(&a, UART_LCR, 0x03);
	uart_write(&a, UART_FCR, UART_FCR_ENABLE | 0x80);
	uart_write(&a, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR);
	uart_write(&a, UART_IER, UART_IER_ERBFI);
	uart_write(&a, UART_SCR, 0x42);
	uart_receive(&a, in, 5);
	(void)uart_read(&a, UART_RBR); /* FIFO head moves: 'ello' left */
	cr_assert_eq(a.irq_level, 1);

	wbuf_init(&w);
	uart_save(&a, &w);
	uart_init(&b, NULL, count_irq, NULL);
	irq_calls = 0;
	rbuf_init(&r, w.data, w.len);
	cr_assert_eq(uart_load(&b, &r, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(rbuf_left(&r), 0);
	cr_expect_eq(irq_calls, 0, "loading must not drive the IRQ line");
	cr_expect_eq(b.irq_level, 1);
	cr_expect_eq(uart_baud(&b), 115200);
	cr_expect_eq(b.scr, 0x42);
	cr_expect_eq(b.rx_count, 4);
	cr_expect_eq(uart_read(&b, UART_RBR), 'e');
	cr_expect_eq(uart_read(&b, UART_RBR), 'l');
	cr_expect_eq(b.rx_bytes, a.rx_bytes);
	cr_expect_eq(b.irq_fn, count_irq, "callbacks are kept");
	wbuf_free(&w);
}

/* Byte offsets in uart_save's output. */
#define UART_AT_IER 0
#define UART_AT_FCR 1
#define UART_AT_IRQ 10
#define UART_AT_RXCOUNT 11

static void uart_expect_refused(size_t at, uint8_t val, const char *field)
{
	struct uart16550 a, b;
	struct wbuf w;
	struct rbuf r;
	char err[128] = "";

	uart_init(&a, NULL, NULL, NULL);
	wbuf_init(&w);
	uart_save(&a, &w);
	w.data[at] = val;
	uart_init(&b, NULL, NULL, NULL);
	b.scr = 0x99;
	rbuf_init(&r, w.data, w.len);
	cr_expect_eq(uart_load(&b, &r, err, sizeof(err)), -EINVAL, "%s",
		     field);
	cr_expect(strstr(err, field), "'%s' lacks %s", err, field);
	cr_expect_eq(b.scr, 0x99, "a refused load leaves the model alone");
	wbuf_free(&w);
}

Test(uart_state, impossible_values_and_truncation_are_refused)
{
	struct uart16550 a, b;
	struct wbuf w;

	uart_expect_refused(UART_AT_IER, 0x10, "ier");
	uart_expect_refused(UART_AT_FCR, 0x08, "fcr");
	uart_expect_refused(UART_AT_RXCOUNT, 17, "rx_count");
	uart_expect_refused(UART_AT_IRQ, 1, "irq_level");
	uart_init(&a, NULL, NULL, NULL);
	wbuf_init(&w);
	uart_save(&a, &w);
	for (size_t len = 0; len < w.len; len++) {
		struct rbuf r;
		char err[128] = "";

		uart_init(&b, NULL, NULL, NULL);
		rbuf_init(&r, w.data, len);
		cr_assert_eq(uart_load(&b, &r, err, sizeof(err)), -EBADMSG,
			     "cut at %zu", len);
	}
	wbuf_free(&w);
}

/* --- test device ------------------------------------------------------------ */

static void add_report(struct testdev *td, uint32_t vcpu, uint32_t seq)
{
	struct testdev_vcpu *v = &td->vcpus[vcpu];
	struct testdev_report *r = &v->ring[v->next];

	memset(r, 0, sizeof(*r));
	td->vcpus_used |= 1u << vcpu;
	r->hdr.type = TESTDEV_MSG_REPORT;
	r->hdr.len_bytes = sizeof(*r);
	r->vcpu = vcpu;
	r->seq = seq;
	r->total_pages_written = 1000 * (seq + 1);
	v->next = (v->next + 1) % TESTDEV_REPORT_RING;
	v->count++;
	v->totals.reports++;
	td->totals.reports++;
}

Test(testdev_state, round_trip_keeps_latest_reports_and_queue)
{
	struct testdev *a, *b;
	struct testdev_report rep;
	struct testdev_totals t;
	struct testdev_hello hello;
	struct wbuf w;
	struct rbuf r;
	char err[128] = "";

	cr_assert_eq(testdev_create(NULL, &a), 0);
	cr_assert_eq(testdev_create(NULL, &b), 0);
	a->have_hello = true;
	a->hello.nr_cpus = 2;
	a->hello.wss_bytes = 16 << 20;
	for (uint32_t s = 0; s < 3; s++)
		add_report(a, 1, s);
	add_report(a, 0, 0);
	a->status = -EINVAL;
	cr_assert_eq(testdev_queue_cmd(a, TESTDEV_CMD_VERIFY, 0), 0);
	cr_assert_eq(testdev_queue_cmd(a, TESTDEV_CMD_STOP, 5), 0);

	wbuf_init(&w);
	cr_assert_eq(testdev_save(a, &w), 0);
	rbuf_init(&r, w.data, w.len);
	cr_assert_eq(testdev_load(b, &r, TESTDEV_STATE_VERSION, err,
				  sizeof(err)),
		     0, "%s", err);
	cr_expect_eq(rbuf_left(&r), 0);
	cr_assert_eq(testdev_hello(b, &hello), 0);
	cr_expect_eq(hello.wss_bytes, 16 << 20);
	cr_assert_eq(testdev_latest_report(b, 1, &rep), 0);
	cr_expect_eq(rep.seq, 2);
	cr_expect_eq(rep.total_pages_written, 3000);
	cr_expect_eq(testdev_report_history(b, 1, &rep, 1), 1,
		     "history is dropped: the latest report only");
	cr_assert_eq(testdev_totals(b, 1, &t), 0);
	cr_expect_eq(t.reports, 3);
	cr_assert_eq(testdev_totals(b, UINT32_MAX, &t), 0);
	cr_expect_eq(t.reports, 4);
	cr_expect_eq(testdev_status(b), -EINVAL);
	cr_expect_eq(testdev_latest_report(b, 2, &rep), -ENOENT);
	cr_expect_eq(b->cmd_count, 2);
	cr_expect_eq(b->cmds[0].cmd, TESTDEV_CMD_VERIFY);
	cr_expect_eq(b->cmds[1].arg, 5);
	testdev_destroy(a);
	testdev_destroy(b);
	wbuf_free(&w);
}

Test(testdev_state, bad_version_command_and_truncation_are_refused)
{
	struct testdev *a, *b;
	struct wbuf w;
	struct rbuf r;
	char err[128] = "";

	cr_assert_eq(testdev_create(NULL, &a), 0);
	cr_assert_eq(testdev_create(NULL, &b), 0);
	cr_assert_eq(testdev_queue_cmd(a, TESTDEV_CMD_STOP, 0), 0);
	wbuf_init(&w);
	cr_assert_eq(testdev_save(a, &w), 0);

	rbuf_init(&r, w.data, w.len);
	cr_expect_eq(testdev_load(b, &r, 2, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "version 2"), "%s", err);
	for (size_t len = 0; len < w.len; len++) {
		rbuf_init(&r, w.data, len);
		cr_assert_eq(testdev_load(b, &r, 1, err, sizeof(err)),
			     len < w.len ? -EBADMSG : 0, "cut at %zu: %s", len,
			     err);
	}
	/* The queued command: 4 + 2 * 8 + hello/result + totals + 4. */
	{
		size_t at = 4 + 8 + 8 + (1 + 8 + 4 + 4 + 8 + 8) +
			    (1 + 8 + 4 + 4 + 8 + 8 + 8) + 3 * 8 + 4 + 4;

		cr_assert_eq(w.data[at], TESTDEV_CMD_STOP);
		w.data[at] = 0x77;
		rbuf_init(&r, w.data, w.len);
		cr_expect_eq(testdev_load(b, &r, 1, err, sizeof(err)), -EINVAL);
		cr_expect(strstr(err, "command 119"), "%s", err);
	}
	testdev_destroy(a);
	testdev_destroy(b);
	wbuf_free(&w);
}
