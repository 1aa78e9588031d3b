// SPDX-License-Identifier: MIT
/*
 * The platform's KVM state on the wire (platform_codec.h): the in-kernel
 * irqchip (two PICs and the IOAPIC), the PIT and the KVM clock, each
 * encoded field by field, little-endian, and decoded with its counts and
 * flags checked. kvm/platform_snapshot.c reads and loads them.
 */
#include "migrate/platform_codec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void put_pic(struct wbuf *w, const struct kvm_pic_state *s)
{
	const uint8_t v[] = {
		s->last_irr,	    s->irr,
		s->imr,		    s->isr,
		s->priority_add,    s->irq_base,
		s->read_reg_select, s->poll,
		s->special_mask,    s->init_state,
		s->auto_eoi,	    s->rotate_on_auto_eoi,
		s->special_fully_nested_mode, s->init4,
		s->elcr,	    s->elcr_mask,
	};

	wbuf_put_bytes(w, v, sizeof(v)); /* sixteen u8 fields, in order */
}

static void get_pic(struct rbuf *r, struct kvm_pic_state *s)
{
	__u8 *const v[] = {
		&s->last_irr,	     &s->irr,
		&s->imr,	     &s->isr,
		&s->priority_add,    &s->irq_base,
		&s->read_reg_select, &s->poll,
		&s->special_mask,    &s->init_state,
		&s->auto_eoi,	     &s->rotate_on_auto_eoi,
		&s->special_fully_nested_mode, &s->init4,
		&s->elcr,	     &s->elcr_mask,
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		*v[i] = rbuf_get_u8(r);
}

static void put_ioapic(struct wbuf *w, const struct kvm_ioapic_state *s)
{
	wbuf_put_u64(w, s->base_address);
	wbuf_put_u32(w, s->ioregsel);
	wbuf_put_u32(w, s->id);
	wbuf_put_u32(w, s->irr);
	wbuf_put_u32(w, KVM_IOAPIC_NUM_PINS);
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		wbuf_put_u64(w, s->redirtbl[i].bits);
}

static void get_ioapic(struct rbuf *r, struct kvm_ioapic_state *s)
{
	s->base_address = rbuf_get_u64(r);
	s->ioregsel = rbuf_get_u32(r);
	s->id = rbuf_get_u32(r);
	s->irr = rbuf_get_u32(r);
	/* A different pin count cannot be loaded: make it a short read. */
	if (rbuf_get_u32(r) != KVM_IOAPIC_NUM_PINS)
		r->err = -EBADMSG;
	for (int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		s->redirtbl[i].bits = rbuf_get_u64(r);
}

void irqchip_encode(const struct platform_snapshot *p, struct wbuf *w)
{
	put_pic(w, &p->chips[0].chip.pic);
	put_pic(w, &p->chips[1].chip.pic);
	put_ioapic(w, &p->chips[2].chip.ioapic);
}

void irqchip_decode(struct rbuf *r, struct platform_snapshot *p)
{
	irqchip_init(p);
	get_pic(r, &p->chips[0].chip.pic);
	get_pic(r, &p->chips[1].chip.pic);
	get_ioapic(r, &p->chips[2].chip.ioapic);
}

void pit_encode(const struct platform_snapshot *p, struct wbuf *w)
{
	wbuf_put_u32(w, 3);
	for (int i = 0; i < 3; i++) {
		const struct kvm_pit_channel_state *c = &p->pit.channels[i];

		wbuf_put_u32(w, c->count);
		wbuf_put_u16(w, c->latched_count);
		wbuf_put_u8(w, c->count_latched);
		wbuf_put_u8(w, c->status_latched);
		wbuf_put_u8(w, c->status);
		wbuf_put_u8(w, c->read_state);
		wbuf_put_u8(w, c->write_state);
		wbuf_put_u8(w, c->write_latch);
		wbuf_put_u8(w, c->rw_mode);
		wbuf_put_u8(w, c->mode);
		wbuf_put_u8(w, c->bcd);
		wbuf_put_u8(w, c->gate);
		wbuf_put_u64(w, (uint64_t)c->count_load_time);
	}
	wbuf_put_u32(w, p->pit.flags);
}

void pit_decode(struct rbuf *r, struct platform_snapshot *p)
{
	memset(&p->pit, 0, sizeof(p->pit));
	if (rbuf_get_u32(r) != 3)
		r->err = -EBADMSG; /* the PIT has three channels */
	for (int i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = &p->pit.channels[i];

		c->count = rbuf_get_u32(r);
		c->latched_count = rbuf_get_u16(r);
		c->count_latched = rbuf_get_u8(r);
		c->status_latched = rbuf_get_u8(r);
		c->status = rbuf_get_u8(r);
		c->read_state = rbuf_get_u8(r);
		c->write_state = rbuf_get_u8(r);
		c->write_latch = rbuf_get_u8(r);
		c->rw_mode = rbuf_get_u8(r);
		c->mode = rbuf_get_u8(r);
		c->bcd = rbuf_get_u8(r);
		c->gate = rbuf_get_u8(r);
		c->count_load_time = (__s64)rbuf_get_u64(r);
	}
	p->pit.flags = rbuf_get_u32(r);
}

/* realtime and host_tsc are informational: this host's, at save time. */
void clock_encode(const struct platform_snapshot *p, struct wbuf *w)
{
	wbuf_put_u64(w, p->clock.clock);
	wbuf_put_u32(w, p->clock.flags);
	wbuf_put_u64(w, p->clock.realtime);
	wbuf_put_u64(w, p->clock.host_tsc);
}

int clock_decode(struct rbuf *r, struct platform_snapshot *p, char *err,
		 size_t err_len)
{
	const uint32_t known = KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
			       KVM_CLOCK_HOST_TSC;

	memset(&p->clock, 0, sizeof(p->clock));
	p->clock.clock = rbuf_get_u64(r);
	p->clock.flags = rbuf_get_u32(r);
	p->clock.realtime = rbuf_get_u64(r);
	p->clock.host_tsc = rbuf_get_u64(r);
	if (!r->err && (p->clock.flags & ~known)) {
		snprintf(err, err_len, "clock: unknown flags 0x%x",
			 p->clock.flags);
		return -EINVAL;
	}
	return 0;
}
