// SPDX-License-Identifier: MIT
/*
 * One vCPU's state on the wire: every field of KVM's structs written on
 * its own, little-endian, and read back with each length and count checked
 * before anything is allocated. The XSAVE area and the LAPIC register page
 * go as byte blocks: their layouts are the architecture's (Intel SDM
 * "XSAVE area", the APIC register page), not a C struct of ours.
 */
#include "migrate/vcpu_codec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum fpu_kind { FPU_KIND_FPU = 0, FPU_KIND_XSAVE = 1 };

static void put_segment(struct wbuf *w, const struct kvm_segment *s)
{
	wbuf_put_u64(w, s->base);
	wbuf_put_u32(w, s->limit);
	wbuf_put_u16(w, s->selector);
	wbuf_put_u8(w, s->type);
	wbuf_put_u8(w, s->present);
	wbuf_put_u8(w, s->dpl);
	wbuf_put_u8(w, s->db);
	wbuf_put_u8(w, s->s);
	wbuf_put_u8(w, s->l);
	wbuf_put_u8(w, s->g);
	wbuf_put_u8(w, s->avl);
	wbuf_put_u8(w, s->unusable);
}

static void get_segment(struct rbuf *r, struct kvm_segment *s)
{
	s->base = rbuf_get_u64(r);
	s->limit = rbuf_get_u32(r);
	s->selector = rbuf_get_u16(r);
	s->type = rbuf_get_u8(r);
	s->present = rbuf_get_u8(r);
	s->dpl = rbuf_get_u8(r);
	s->db = rbuf_get_u8(r);
	s->s = rbuf_get_u8(r);
	s->l = rbuf_get_u8(r);
	s->g = rbuf_get_u8(r);
	s->avl = rbuf_get_u8(r);
	s->unusable = rbuf_get_u8(r);
}

static void put_regs(struct wbuf *w, const struct kvm_regs *g)
{
	const uint64_t v[] = {
		g->rax, g->rbx, g->rcx, g->rdx, g->rsi, g->rdi,
		g->rsp, g->rbp, g->r8,	g->r9,	g->r10, g->r11,
		g->r12, g->r13, g->r14, g->r15, g->rip, g->rflags,
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		wbuf_put_u64(w, v[i]);
}

static void get_regs(struct rbuf *r, struct kvm_regs *g)
{
	__u64 *const v[] = {
		&g->rax, &g->rbx, &g->rcx, &g->rdx, &g->rsi, &g->rdi,
		&g->rsp, &g->rbp, &g->r8,  &g->r9,  &g->r10, &g->r11,
		&g->r12, &g->r13, &g->r14, &g->r15, &g->rip, &g->rflags,
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		*v[i] = rbuf_get_u64(r);
}

static void put_sregs(struct wbuf *w, const struct kvm_sregs *s)
{
	const struct kvm_segment *segs[] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldt,
	};
	const uint64_t ctl[] = { s->cr0, s->cr2, s->cr3,      s->cr4,
				 s->cr8, s->efer, s->apic_base };

	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
		put_segment(w, segs[i]);
	wbuf_put_u64(w, s->gdt.base);
	wbuf_put_u16(w, s->gdt.limit);
	wbuf_put_u64(w, s->idt.base);
	wbuf_put_u16(w, s->idt.limit);
	for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++)
		wbuf_put_u64(w, ctl[i]);
	for (size_t i = 0; i < sizeof(s->interrupt_bitmap) / 8; i++)
		wbuf_put_u64(w, s->interrupt_bitmap[i]);
}

static void get_sregs(struct rbuf *r, struct kvm_sregs *s)
{
	struct kvm_segment *segs[] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldt,
	};
	__u64 *const ctl[] = { &s->cr0, &s->cr2,  &s->cr3,	   &s->cr4,
				  &s->cr8, &s->efer, &s->apic_base };

	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
		get_segment(r, segs[i]);
	s->gdt.base = rbuf_get_u64(r);
	s->gdt.limit = rbuf_get_u16(r);
	s->idt.base = rbuf_get_u64(r);
	s->idt.limit = rbuf_get_u16(r);
	for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++)
		*ctl[i] = rbuf_get_u64(r);
	for (size_t i = 0; i < sizeof(s->interrupt_bitmap) / 8; i++)
		s->interrupt_bitmap[i] = rbuf_get_u64(r);
}

static void put_fpu(struct wbuf *w, const struct kvm_fpu *f)
{
	wbuf_put_bytes(w, f->fpr, sizeof(f->fpr)); /* 8 x 80-bit, padded */
	wbuf_put_u16(w, f->fcw);
	wbuf_put_u16(w, f->fsw);
	wbuf_put_u8(w, f->ftwx);
	wbuf_put_u16(w, f->last_opcode);
	wbuf_put_u64(w, f->last_ip);
	wbuf_put_u64(w, f->last_dp);
	wbuf_put_bytes(w, f->xmm, sizeof(f->xmm)); /* 16 x 128-bit */
	wbuf_put_u32(w, f->mxcsr);
}

static void get_fpu(struct rbuf *r, struct kvm_fpu *f)
{
	rbuf_get_bytes(r, f->fpr, sizeof(f->fpr));
	f->fcw = rbuf_get_u16(r);
	f->fsw = rbuf_get_u16(r);
	f->ftwx = rbuf_get_u8(r);
	f->last_opcode = rbuf_get_u16(r);
	f->last_ip = rbuf_get_u64(r);
	f->last_dp = rbuf_get_u64(r);
	rbuf_get_bytes(r, f->xmm, sizeof(f->xmm));
	f->mxcsr = rbuf_get_u32(r);
}

static void put_xcrs(struct wbuf *w, const struct vcpu_snapshot *s)
{
	uint32_t n = s->has_xcrs ? s->xcrs.nr_xcrs : 0;

	wbuf_put_u8(w, s->has_xcrs);
	wbuf_put_u32(w, n);
	wbuf_put_u32(w, s->xcrs.flags);
	for (uint32_t i = 0; i < n && i < KVM_MAX_XCRS; i++) {
		wbuf_put_u32(w, s->xcrs.xcrs[i].xcr);
		wbuf_put_u64(w, s->xcrs.xcrs[i].value);
	}
}

static void put_debugregs(struct wbuf *w, const struct kvm_debugregs *d)
{
	for (int i = 0; i < 4; i++)
		wbuf_put_u64(w, d->db[i]);
	wbuf_put_u64(w, d->dr6);
	wbuf_put_u64(w, d->dr7);
	wbuf_put_u64(w, d->flags);
}

static void get_debugregs(struct rbuf *r, struct kvm_debugregs *d)
{
	for (int i = 0; i < 4; i++)
		d->db[i] = rbuf_get_u64(r);
	d->dr6 = rbuf_get_u64(r);
	d->dr7 = rbuf_get_u64(r);
	d->flags = rbuf_get_u64(r);
}

static void put_events(struct wbuf *w, const struct kvm_vcpu_events *e)
{
	wbuf_put_u8(w, e->exception.injected);
	wbuf_put_u8(w, e->exception.nr);
	wbuf_put_u8(w, e->exception.has_error_code);
	wbuf_put_u8(w, e->exception.pending);
	wbuf_put_u32(w, e->exception.error_code);
	wbuf_put_u8(w, e->interrupt.injected);
	wbuf_put_u8(w, e->interrupt.nr);
	wbuf_put_u8(w, e->interrupt.soft);
	wbuf_put_u8(w, e->interrupt.shadow);
	wbuf_put_u8(w, e->nmi.injected);
	wbuf_put_u8(w, e->nmi.pending);
	wbuf_put_u8(w, e->nmi.masked);
	wbuf_put_u32(w, e->sipi_vector);
	wbuf_put_u32(w, e->flags);
	wbuf_put_u8(w, e->smi.smm);
	wbuf_put_u8(w, e->smi.pending);
	wbuf_put_u8(w, e->smi.smm_inside_nmi);
	wbuf_put_u8(w, e->smi.latched_init);
	wbuf_put_u8(w, e->triple_fault.pending);
	wbuf_put_u8(w, e->exception_has_payload);
	wbuf_put_u64(w, e->exception_payload);
}

static void get_events(struct rbuf *r, struct kvm_vcpu_events *e)
{
	e->exception.injected = rbuf_get_u8(r);
	e->exception.nr = rbuf_get_u8(r);
	e->exception.has_error_code = rbuf_get_u8(r);
	e->exception.pending = rbuf_get_u8(r);
	e->exception.error_code = rbuf_get_u32(r);
	e->interrupt.injected = rbuf_get_u8(r);
	e->interrupt.nr = rbuf_get_u8(r);
	e->interrupt.soft = rbuf_get_u8(r);
	e->interrupt.shadow = rbuf_get_u8(r);
	e->nmi.injected = rbuf_get_u8(r);
	e->nmi.pending = rbuf_get_u8(r);
	e->nmi.masked = rbuf_get_u8(r);
	e->sipi_vector = rbuf_get_u32(r);
	e->flags = rbuf_get_u32(r);
	e->smi.smm = rbuf_get_u8(r);
	e->smi.pending = rbuf_get_u8(r);
	e->smi.smm_inside_nmi = rbuf_get_u8(r);
	e->smi.latched_init = rbuf_get_u8(r);
	e->triple_fault.pending = rbuf_get_u8(r);
	e->exception_has_payload = rbuf_get_u8(r);
	e->exception_payload = rbuf_get_u64(r);
}

/*
 * Field order on the wire: index, MP state, regs, sregs, FPU/XSAVE, XCRs,
 * debug registers, LAPIC, MSRs, events (the order they are read in).
 */
void vcpu_snapshot_encode(const struct vcpu_snapshot *s, struct wbuf *w)
{
	wbuf_put_u32(w, s->index);
	wbuf_put_u32(w, s->mp_state);
	put_regs(w, &s->regs);
	put_sregs(w, &s->sregs);
	wbuf_put_u8(w, s->has_xsave ? FPU_KIND_XSAVE : FPU_KIND_FPU);
	if (s->has_xsave) {
		wbuf_put_u32(w, s->xsave_bytes);
		wbuf_put_bytes(w, s->xsave, s->xsave_bytes);
	} else {
		put_fpu(w, &s->fpu);
	}
	put_xcrs(w, s);
	put_debugregs(w, &s->debugregs);
	wbuf_put_u32(w, sizeof(s->lapic.regs));
	wbuf_put_bytes(w, s->lapic.regs, sizeof(s->lapic.regs));
	wbuf_put_u32(w, s->nr_msrs);
	for (uint32_t i = 0; i < s->nr_msrs; i++) {
		wbuf_put_u32(w, s->msrs[i].index);
		wbuf_put_u64(w, s->msrs[i].data);
	}
	put_events(w, &s->events);
}

#define DECODE_FAIL(code, ...)                                        \
	({                                                            \
		snprintf(err, err_len, __VA_ARGS__);                  \
		code;                                                 \
	})

static int get_fpu_state(struct rbuf *r, struct vcpu_snapshot *s, char *err,
			 size_t err_len)
{
	uint8_t kind = rbuf_get_u8(r);

	if (r->err)
		return 0; /* reported as truncation by the caller */
	if (kind == FPU_KIND_FPU) {
		get_fpu(r, &s->fpu);
		return 0;
	}
	if (kind != FPU_KIND_XSAVE)
		return DECODE_FAIL(-EINVAL, "vcpu %u: fpu kind %u unknown",
				   s->index, kind);
	s->has_xsave = true;
	s->xsave_bytes = rbuf_get_u32(r);
	if (r->err)
		return 0;
	if (s->xsave_bytes < sizeof(struct kvm_xsave) ||
	    s->xsave_bytes > VM_STATE_MAX_XSAVE_BYTES || s->xsave_bytes % 4)
		return DECODE_FAIL(-EINVAL, "vcpu %u: xsave length %u out of range",
				   s->index, s->xsave_bytes);
	if (rbuf_left(r) < s->xsave_bytes)
		return DECODE_FAIL(-EBADMSG, "vcpu %u: xsave truncated",
				   s->index);
	s->xsave = malloc(s->xsave_bytes);
	if (!s->xsave)
		return -ENOMEM;
	rbuf_get_bytes(r, s->xsave, s->xsave_bytes);
	return 0;
}

static int get_xcrs(struct rbuf *r, struct vcpu_snapshot *s, char *err,
		    size_t err_len)
{
	uint8_t have = rbuf_get_u8(r);
	uint32_t n = rbuf_get_u32(r);

	s->xcrs.flags = rbuf_get_u32(r);
	if (r->err)
		return 0;
	if (have > 1 || n > KVM_MAX_XCRS || (!have && n))
		return DECODE_FAIL(-EINVAL, "vcpu %u: xcrs count %u out of range",
				   s->index, n);
	s->has_xcrs = have;
	s->xcrs.nr_xcrs = n;
	for (uint32_t i = 0; i < n; i++) {
		s->xcrs.xcrs[i].xcr = rbuf_get_u32(r);
		s->xcrs.xcrs[i].value = rbuf_get_u64(r);
	}
	return 0;
}

static int get_lapic_msrs(struct rbuf *r, struct vcpu_snapshot *s, char *err,
			  size_t err_len)
{
	uint32_t len = rbuf_get_u32(r);

	if (!r->err && len != sizeof(s->lapic.regs))
		return DECODE_FAIL(-EINVAL, "vcpu %u: lapic length %u, expected %zu",
				   s->index, len, sizeof(s->lapic.regs));
	rbuf_get_bytes(r, s->lapic.regs, sizeof(s->lapic.regs));
	s->nr_msrs = rbuf_get_u32(r);
	if (r->err)
		return 0;
	if (s->nr_msrs > VM_STATE_MAX_MSRS)
		return DECODE_FAIL(-EINVAL, "vcpu %u: msrs count %u, at most %u",
				   s->index, s->nr_msrs, VM_STATE_MAX_MSRS);
	if (rbuf_left(r) < (size_t)s->nr_msrs * 12)
		return DECODE_FAIL(-EBADMSG, "vcpu %u: msrs truncated", s->index);
	s->msrs = calloc(s->nr_msrs ?: 1, sizeof(*s->msrs));
	if (!s->msrs)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->nr_msrs; i++) {
		s->msrs[i].index = rbuf_get_u32(r);
		s->msrs[i].data = rbuf_get_u64(r);
	}
	return 0;
}

int vcpu_snapshot_decode(struct rbuf *r, struct vcpu_snapshot *s, char *err,
			 size_t err_len)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->index = rbuf_get_u32(r);
	s->mp_state = rbuf_get_u32(r);
	get_regs(r, &s->regs);
	get_sregs(r, &s->sregs);
	ret = get_fpu_state(r, s, err, err_len);
	ret = ret ?: get_xcrs(r, s, err, err_len);
	if (!ret)
		get_debugregs(r, &s->debugregs);
	ret = ret ?: get_lapic_msrs(r, s, err, err_len);
	if (!ret)
		get_events(r, &s->events);
	if (!ret && r->err)
		ret = DECODE_FAIL(-EBADMSG, "vcpu %u: state truncated",
				  s->index);
	return ret;
}
