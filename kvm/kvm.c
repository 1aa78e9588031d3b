// SPDX-License-Identifier: MIT
/* The KVM layer: checked wrappers around every KVM ioctl kvmtrack uses
 * (machine state for migration: kvm_state.c). */
#include "kvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/ioctl.h"
#include "lib/log.h"

#define KVM_MAX_CPUID_ENTRIES 256

int kvm_ioctl_raw(int fd, unsigned long cmd, unsigned long arg,
		  const char *cmd_name, const char *object, bool quiet)
{
	int ret = ioctl(fd, cmd, arg);
	int err = errno;

	if (ret >= 0)
		return ret;
	if (!quiet)
		log_err("kvm: %s (%s): %s", cmd_name, object, strerror(err));
	return -err;
}

static int kvm_fetch_supported_cpuid(struct kvm_sys *sys)
{
	size_t bytes = sizeof(struct kvm_cpuid2) +
		       KVM_MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *cpuid = calloc(1, bytes);
	int ret;

	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = KVM_MAX_CPUID_ENTRIES;
	ret = KVM_IOCTL(sys->fd, KVM_GET_SUPPORTED_CPUID, cpuid, "/dev/kvm");
	if (ret < 0) {
		free(cpuid);
		return ret;
	}
	sys->supported_cpuid = cpuid;
	return 0;
}

/* Capabilities kvmtrack cannot run without. */
static const struct {
	long cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
};

int kvm_sys_open(struct kvm_sys *sys)
{
	int ret;

	memset(sys, 0, sizeof(*sys));
	sys->fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (sys->fd < 0) {
		ret = -errno;
		log_err("kvm: open /dev/kvm: %s", strerror(-ret));
		return ret;
	}
	ret = KVM_IOCTL_VAL(sys->fd, KVM_GET_API_VERSION, 0, "/dev/kvm");
	if (ret != KVM_API_VERSION) {
		log_err("kvm: API version %d, need %d", ret, KVM_API_VERSION);
		ret = -ENOTSUP;
		goto close_fd;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]);
	     i++) {
		if (kvm_check_extension(sys, required_caps[i].cap) <= 0) {
			log_err("kvm: host lacks %s", required_caps[i].name);
			ret = -ENOTSUP;
			goto close_fd;
		}
	}
	sys->vcpu_mmap_bytes = KVM_IOCTL_VAL(sys->fd, KVM_GET_VCPU_MMAP_SIZE, 0,
					     "/dev/kvm");
	if (sys->vcpu_mmap_bytes < (int)sizeof(struct kvm_run)) {
		ret = sys->vcpu_mmap_bytes < 0 ? sys->vcpu_mmap_bytes : -EINVAL;
		goto close_fd;
	}
	ret = kvm_fetch_supported_cpuid(sys);
	if (ret < 0)
		goto close_fd;
	return 0;

close_fd:
	close(sys->fd);
	sys->fd = -1;
	return ret;
}

void kvm_sys_close(struct kvm_sys *sys)
{
	free(sys->supported_cpuid);
	sys->supported_cpuid = NULL;
	if (sys->fd >= 0)
		close(sys->fd);
	sys->fd = -1;
}

int kvm_check_extension(const struct kvm_sys *sys, long cap)
{
	return kvm_ioctl_raw(sys->fd, KVM_CHECK_EXTENSION, (unsigned long)cap,
			     "KVM_CHECK_EXTENSION", "/dev/kvm", true);
}

int kvm_vm_create(const struct kvm_sys *sys)
{
	return KVM_IOCTL_VAL(sys->fd, KVM_CREATE_VM, 0, "/dev/kvm");
}

int kvm_set_memslot(int vm_fd, uint32_t slot, uint32_t flags, uint64_t gpa,
		    uint64_t size_bytes, void *hva)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size_bytes,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};
	char object[64];

	snprintf(object, sizeof(object), "slot %u at 0x%llx", slot,
		 (unsigned long long)gpa);
	return KVM_IOCTL(vm_fd, KVM_SET_USER_MEMORY_REGION, &region, object);
}

int kvm_create_irqchip(int vm_fd)
{
	return KVM_IOCTL_VAL(vm_fd, KVM_CREATE_IRQCHIP, 0, "vm");
}

int kvm_create_pit2(int vm_fd)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	return KVM_IOCTL(vm_fd, KVM_CREATE_PIT2, &pit, "vm");
}

int kvm_set_tss_addr(int vm_fd, uint64_t gpa)
{
	return KVM_IOCTL_VAL(vm_fd, KVM_SET_TSS_ADDR, gpa, "vm");
}

int kvm_set_identity_map_addr(int vm_fd, uint64_t gpa)
{
	uint64_t addr = gpa;

	return KVM_IOCTL(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr, "vm");
}

int kvm_irq_line(int vm_fd, uint32_t gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)level };

	return KVM_IOCTL(vm_fd, KVM_IRQ_LINE, &irq, "vm");
}

int kvm_vcpu_create(const struct kvm_sys *sys, int vm_fd, uint32_t id,
		    struct kvm_vcpu *vcpu)
{
	void *run;
	int fd;

	fd = KVM_IOCTL_VAL(vm_fd, KVM_CREATE_VCPU, id, "vm");
	if (fd < 0)
		return fd;
	run = mmap(NULL, (size_t)sys->vcpu_mmap_bytes, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (run == MAP_FAILED) {
		int err = errno;

		log_err("kvm: mmap kvm_run of vcpu %u: %s", id, strerror(err));
		close(fd);
		return -err;
	}
	vcpu->fd = fd;
	vcpu->id = id;
	vcpu->run = run;
	vcpu->run_bytes = sys->vcpu_mmap_bytes;
	return 0;
}

void kvm_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->run_bytes);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

int kvm_vcpu_run(struct kvm_vcpu *vcpu)
{
	int ret = kvm_ioctl_raw(vcpu->fd, KVM_RUN, 0, "KVM_RUN", "vcpu", true);

	if (ret < 0 && ret != -EINTR && ret != -EAGAIN)
		log_err("kvm: KVM_RUN (vcpu %u): %s", vcpu->id, strerror(-ret));
	return ret == -EAGAIN ? -EINTR : ret;
}

int kvm_get_regs(struct kvm_vcpu *vcpu, struct kvm_regs *regs)
{
	return VCPU_IOCTL(vcpu, KVM_GET_REGS, regs);
}

int kvm_set_regs(struct kvm_vcpu *vcpu, const struct kvm_regs *regs)
{
	return VCPU_IOCTL(vcpu, KVM_SET_REGS, regs);
}

int kvm_get_sregs(struct kvm_vcpu *vcpu, struct kvm_sregs *sregs)
{
	return VCPU_IOCTL(vcpu, KVM_GET_SREGS, sregs);
}

int kvm_set_sregs(struct kvm_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	return VCPU_IOCTL(vcpu, KVM_SET_SREGS, sregs);
}

int kvm_set_mp_state(struct kvm_vcpu *vcpu, uint32_t mp_state)
{
	struct kvm_mp_state state = { .mp_state = mp_state };

	return VCPU_IOCTL(vcpu, KVM_SET_MP_STATE, &state);
}

int kvm_set_cpuid(struct kvm_vcpu *vcpu, const struct kvm_cpuid2 *cpuid)
{
	char name[24];

	/* Variable-length argument: the size check does not apply. */
	return kvm_ioctl_raw(vcpu->fd, KVM_SET_CPUID2, (unsigned long)cpuid,
			     "KVM_SET_CPUID2",
			     VCPU_NAME(vcpu, name), false);
}

int kvm_translate(struct kvm_vcpu *vcpu, uint64_t gva, uint64_t *gpa)
{
	struct kvm_translation tr = { .linear_address = gva };
	char name[24];
	int ret;

	ret = kvm_ioctl_raw(vcpu->fd, KVM_TRANSLATE, (unsigned long)&tr,
			    "KVM_TRANSLATE",
			    VCPU_NAME(vcpu, name), true);
	if (ret < 0)
		return ret;
	if (!tr.valid)
		return -EFAULT;
	*gpa = tr.physical_address;
	return 0;
}

int kvm_get_tsc_khz(struct kvm_vcpu *vcpu)
{
	char name[24];

	return kvm_ioctl_raw(vcpu->fd, KVM_GET_TSC_KHZ, 0, "KVM_GET_TSC_KHZ",
			     VCPU_NAME(vcpu, name), false);
}

const char *kvm_exit_name(uint32_t reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO",
		[KVM_EXIT_HYPERCALL] = "HYPERCALL",
		[KVM_EXIT_DEBUG] = "DEBUG",
		[KVM_EXIT_HLT] = "HLT",
		[KVM_EXIT_MMIO] = "MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[KVM_EXIT_INTR] = "INTR",
		[KVM_EXIT_SET_TPR] = "SET_TPR",
		[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
		[KVM_EXIT_NMI] = "NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
		[KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
		[KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "unknown";
}

int kvm_enable_cap(int vm_fd, uint32_t cap, uint64_t arg0)
{
	struct kvm_enable_cap ec = { .cap = cap, .args = { arg0 } };
	char object[32];

	snprintf(object, sizeof(object), "vm, cap %u", cap);
	return KVM_IOCTL(vm_fd, KVM_ENABLE_CAP, &ec, object);
}

int kvm_get_dirty_log(int vm_fd, uint32_t slot, uint64_t *bitmap)
{
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bitmap };
	char object[24];

	snprintf(object, sizeof(object), "slot %u", slot);
	return KVM_IOCTL(vm_fd, KVM_GET_DIRTY_LOG, &log, object);
}

int kvm_clear_dirty_log(int vm_fd, uint32_t slot, uint64_t first_page,
			uint32_t num_pages, uint64_t *bitmap)
{
	struct kvm_clear_dirty_log clear = {
		.slot = slot,
		.num_pages = num_pages,
		.first_page = first_page,
		.dirty_bitmap = bitmap,
	};
	char object[64];

	snprintf(object, sizeof(object), "slot %u, pages %llu+%u", slot,
		 (unsigned long long)first_page, num_pages);
	return KVM_IOCTL(vm_fd, KVM_CLEAR_DIRTY_LOG, &clear, object);
}

/*
 * With every signal blocked. Since "KVM: Bail from the dirty ring reset
 * flow if a signal is pending" (Linux 6.17 or so), the reset stops early
 * when a signal is pending, after it has consumed a batch of entries but
 * before it write-protects their pages again: those pages are never
 * logged again, and the ioctl returns a short count, not EINTR. A vCPU
 * thread that resets on KVM_EXIT_DIRTY_RING_FULL is exactly where a kick
 * (SIGUSR1) lands; a standalone reproduction lost pages that way with 1
 * and 2 vCPUs and none with the signal blocked. The kick is not lost:
 * immediate_exit is set before it is sent.
 */
int kvm_reset_dirty_rings(int vm_fd)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = KVM_IOCTL_VAL(vm_fd, KVM_RESET_DIRTY_RINGS, 0, "vm");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}
