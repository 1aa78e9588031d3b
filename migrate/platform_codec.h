/* SPDX-License-Identifier: MIT */
/*
 * The platform's KVM state (kvm/platform_snapshot.h) in the machine-state
 * stream: the bodies of the "irqchip", "pit" and "clock" sections
 * (migrate/vm_state.h), every field on its own, little-endian.
 */
#ifndef KVMTRACK_PLATFORM_CODEC_H
#define KVMTRACK_PLATFORM_CODEC_H

#include <stddef.h>

#include "kvm/platform_snapshot.h"
#include "lib/wire.h"

void irqchip_encode(const struct platform_snapshot *p, struct wbuf *w);
/* A short or impossible body (an IOAPIC of another pin count) sets r->err. */
void irqchip_decode(struct rbuf *r, struct platform_snapshot *p);
void pit_encode(const struct platform_snapshot *p, struct wbuf *w);
/* Anything but three channels sets r->err, as a short body does. */
void pit_decode(struct rbuf *r, struct platform_snapshot *p);
void clock_encode(const struct platform_snapshot *p, struct wbuf *w);
/* -EINVAL with err for flags this build does not know; a short body sets
 * r->err. */
int clock_decode(struct rbuf *r, struct platform_snapshot *p, char *err,
		 size_t err_len);

#endif
