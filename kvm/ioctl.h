/* SPDX-License-Identifier: MIT */
/* Shared by the KVM layer's files (kvm.c, kvm_state.c) only. */
#ifndef KVMTRACK_KVM_IMPL_H
#define KVMTRACK_KVM_IMPL_H

#include <stdio.h>

#include "kvm/kvm.h"

/* ioctls whose argument is a plain integer, not a pointer. */
#define KVM_IOCTL_VAL(fd, cmd, val, object)                                 \
	kvm_ioctl_raw(fd, cmd, (unsigned long)(val), #cmd, object, false)

static inline const char *vcpu_name(const struct kvm_vcpu *vcpu, char *buf,
				    size_t len)
{
	snprintf(buf, len, "vcpu %u", vcpu->id);
	return buf;
}

/* Pointer-argument vCPU ioctls, named after the object they act on. */
#define VCPU_IOCTL(vcpu, cmd, argp)                                         \
	({                                                                  \
		char _name[24];                                             \
		KVM_IOCTL((vcpu)->fd, cmd, argp,                            \
			  vcpu_name(vcpu, _name, sizeof(_name)));           \
	})

#endif
