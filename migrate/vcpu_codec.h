/* SPDX-License-Identifier: MIT */
/*
 * One vCPU's state (kvm/vcpu_snapshot.h) in the machine-state stream: the
 * body of a "vcpu" section (migrate/vm_state.h), every field of KVM's
 * structs on its own, little-endian.
 */
#ifndef KVMTRACK_VCPU_CODEC_H
#define KVMTRACK_VCPU_CODEC_H

#include <stddef.h>

#include "kvm/vcpu_snapshot.h"
#include "lib/wire.h"

/* Limits a stream must respect before anything is allocated; a source
 * never writes more (vm_state_prepare). */
#define VM_STATE_MAX_MSRS 1024u
#define VM_STATE_MAX_XSAVE_BYTES (1u << 20)

void vcpu_snapshot_encode(const struct vcpu_snapshot *s, struct wbuf *w);
/* Checks every length and count; -EBADMSG/-EINVAL with err. Free s with
 * vcpu_snapshot_free() either way. */
int vcpu_snapshot_decode(struct rbuf *r, struct vcpu_snapshot *s, char *err,
			 size_t err_len);

#endif
