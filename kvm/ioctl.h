/* SPDX-License-Identifier: MIT */
/*
 * The checked ioctl wrappers: private to kvm/, the only code that calls
 * ioctl() on a KVM fd (scripts/check-layers enforces it). Everyone else
 * goes through the named functions of kvm.h.
 */
#ifndef KVMTRACK_KVM_IOCTL_H
#define KVMTRACK_KVM_IOCTL_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/ioctl.h>

/*
 * Raw ioctl: returns the ioctl's result or -errno. Logs failures unless
 * quiet (for results the caller expects, such as EINTR from KVM_RUN).
 */
int kvm_ioctl_raw(int fd, unsigned long cmd, unsigned long arg,
		  const char *cmd_name, const char *object, bool quiet);

#define KVM_IOCTL_ARG_CHECK(cmd, argp)                                      \
	_Static_assert(sizeof(*(argp)) == _IOC_SIZE(cmd),                   \
		       #cmd ": argument size differs from the ioctl number")

/* ioctl with a pointer argument whose size is checked at compile time. */
#define KVM_IOCTL(fd, cmd, argp, object)                                   \
	({                                                                 \
		KVM_IOCTL_ARG_CHECK(cmd, argp);                            \
		kvm_ioctl_raw(fd, cmd, (unsigned long)(argp), #cmd, object, \
			      false);                                      \
	})

/* ioctls whose argument is a plain integer, not a pointer. */
#define KVM_IOCTL_VAL(fd, cmd, val, object)                                 \
	kvm_ioctl_raw(fd, cmd, (unsigned long)(val), #cmd, object, false)

/*
 * A vCPU's name for error messages, written into the char array buf. A
 * macro, so that this header needs nothing from kvm.h and forms no loop
 * with it.
 */
#define VCPU_NAME(vcpu, buf)                                                \
	(snprintf(buf, sizeof(buf), "vcpu %u", (vcpu)->id), (const char *)(buf))

/* Pointer-argument vCPU ioctls, named after the object they act on. */
#define VCPU_IOCTL(vcpu, cmd, argp)                                         \
	({                                                                  \
		char _name[24];                                             \
		KVM_IOCTL((vcpu)->fd, cmd, argp, VCPU_NAME(vcpu, _name));   \
	})

#endif
