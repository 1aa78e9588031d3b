// SPDX-License-Identifier: MIT
/*
 * One vCPU's state (vcpu_snapshot.h): what this host's KVM can save, read
 * from a stopped vCPU, and loaded into a fresh vCPU in the order the KVM
 * ABI needs (the reasons are at vcpu_snapshot_get and vcpu_snapshot_put).
 */
#include "kvm/vcpu_snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

#define MSR_IA32_TSC 0x10u
/* MSR_KVM_ASYNC_PF_INT: KVM_SET_MSRS refuses 0 (its reset value). */
#define MSR_KVM_ASYNC_PF_INT 0x4b564d06u
/* KVM_GET_MSRS/KVM_SET_MSRS take fewer than 256 entries per call. */
#define MSR_CHUNK 255u

int vcpu_caps_probe(int vm_fd, struct vcpu_caps *caps)
{
	int size;

	memset(caps, 0, sizeof(*caps));
	caps->xsave = kvm_vm_check_extension(vm_fd, KVM_CAP_XSAVE) > 0;
	caps->xcrs = kvm_vm_check_extension(vm_fd, KVM_CAP_XCRS) > 0;
	caps->xsave_bytes = sizeof(struct kvm_xsave);
	/* KVM_CAP_XSAVE2 answers with the buffer size KVM_GET_XSAVE2 fills
	 * (AMX and other large states do not fit struct kvm_xsave). */
	size = kvm_vm_check_extension(vm_fd, KVM_CAP_XSAVE2);
	if (caps->xsave && size > 0) {
		caps->xsave2 = true;
		if ((uint32_t)size > caps->xsave_bytes)
			caps->xsave_bytes = (uint32_t)size;
	}
	return 0;
}

static struct kvm_msrs *msrs_alloc(uint32_t n)
{
	return calloc(1, sizeof(struct kvm_msrs) +
				 n * sizeof(struct kvm_msr_entry));
}

/* Keeps, in place, the indices KVM_GET_MSRS reads: it stops at the first
 * MSR it refuses, so drop that one and go on from the next. */
static int msr_filter(struct kvm_vcpu *vcpu, uint32_t *idx, uint32_t *count)
{
	struct kvm_msrs *m = msrs_alloc(MSR_CHUNK);
	uint32_t kept = 0, i = 0;
	int ret = 0;

	if (!m)
		return -ENOMEM;
	while (i < *count) {
		uint32_t n = *count - i < MSR_CHUNK ? *count - i : MSR_CHUNK;

		m->nmsrs = n;
		for (uint32_t j = 0; j < n; j++)
			m->entries[j] = (struct kvm_msr_entry){ .index = idx[i + j] };
		ret = kvm_get_msrs(vcpu, m);
		if (ret < 0)
			break;
		for (uint32_t j = 0; j < (uint32_t)ret; j++)
			idx[kept++] = idx[i + j];
		i += (uint32_t)ret + ((uint32_t)ret < n);
		ret = 0;
	}
	free(m);
	*count = kept;
	return ret;
}

int msr_list_build(const struct kvm_sys *sys, struct kvm_vcpu *vcpu,
		   struct msr_list *list)
{
	uint32_t *all, n, count = 0;
	int ret = kvm_get_msr_index_list(sys, &all, &n);

	if (ret < 0)
		return ret;
	list->indices = malloc((n + 1) * sizeof(uint32_t));
	if (!list->indices) {
		free(all);
		return -ENOMEM;
	}
	/* IA32_TSC first: KVM_SET_MSRS writes in order, and the TSC
	 * deadline (0x6e0) is a TSC value, so the TSC must be in place. */
	list->indices[count++] = MSR_IA32_TSC;
	for (uint32_t i = 0; i < n; i++)
		if (all[i] != MSR_IA32_TSC)
			list->indices[count++] = all[i];
	free(all);
	ret = msr_filter(vcpu, list->indices, &count);
	list->count = count;
	if (ret < 0)
		msr_list_free(list);
	return ret;
}

void msr_list_free(struct msr_list *list)
{
	free(list->indices);
	list->indices = NULL;
	list->count = 0;
}

static int msrs_get(struct kvm_vcpu *vcpu, const struct msr_list *list,
		    struct vcpu_snapshot *s)
{
	struct kvm_msrs *m = msrs_alloc(MSR_CHUNK);
	int ret = 0;

	s->msrs = calloc(list->count ?: 1, sizeof(*s->msrs));
	if (!m || !s->msrs) {
		free(m);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < list->count && !ret; i += MSR_CHUNK) {
		uint32_t n = list->count - i < MSR_CHUNK ? list->count - i
							 : MSR_CHUNK;

		m->nmsrs = n;
		for (uint32_t j = 0; j < n; j++)
			m->entries[j] = (struct kvm_msr_entry){
				.index = list->indices[i + j]
			};
		ret = kvm_get_msrs(vcpu, m);
		if (ret >= 0 && (uint32_t)ret < n) {
			log_err("vcpu %u: KVM_GET_MSRS refused MSR 0x%x",
				vcpu->id, m->entries[ret].index);
			ret = -EIO;
		}
		if (ret >= 0) {
			memcpy(&s->msrs[i], m->entries, n * sizeof(*m->entries));
			ret = 0;
		}
	}
	s->nr_msrs = list->count;
	free(m);
	return ret;
}

static int fpu_get(struct kvm_vcpu *vcpu, const struct vcpu_caps *caps,
		   struct vcpu_snapshot *s)
{
	if (!caps->xsave)
		return kvm_get_fpu(vcpu, &s->fpu);
	s->has_xsave = true;
	s->xsave_bytes = caps->xsave_bytes;
	s->xsave = calloc(1, caps->xsave_bytes);
	if (!s->xsave)
		return -ENOMEM;
	return kvm_get_xsave(vcpu, s->xsave, caps->xsave2);
}

/*
 * With the vCPU out of KVM_RUN. MP state first: KVM_GET_MP_STATE delivers
 * pending INIT/SIPI (kvm_apic_accept_events), which changes registers and
 * the LAPIC, so everything else must be read after it. Events last: the
 * other GETs may still settle a pending exception or interrupt.
 */
int vcpu_snapshot_get(struct kvm_vcpu *vcpu, const struct vcpu_caps *caps,
		      const struct msr_list *msrs, struct vcpu_snapshot *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->index = vcpu->id;
	ret = kvm_get_mp_state(vcpu, &s->mp_state);
	ret = ret ?: kvm_get_regs(vcpu, &s->regs);
	ret = ret ?: kvm_get_sregs(vcpu, &s->sregs);
	ret = ret ?: fpu_get(vcpu, caps, s);
	if (!ret && caps->xcrs) {
		s->has_xcrs = true;
		ret = kvm_get_xcrs(vcpu, &s->xcrs);
	}
	ret = ret ?: kvm_get_debugregs(vcpu, &s->debugregs);
	ret = ret ?: kvm_get_lapic(vcpu, &s->lapic);
	ret = ret ?: msrs_get(vcpu, msrs, s);
	ret = ret ?: kvm_get_vcpu_events(vcpu, &s->events);
	return ret < 0 ? ret : 0;
}

void vcpu_snapshot_free(struct vcpu_snapshot *s)
{
	free(s->xsave);
	free(s->msrs);
	s->xsave = NULL;
	s->msrs = NULL;
}

/* XSAVE into a buffer of this host's size (the rest zero: components the
 * source did not have stay in their init state), or the legacy FPU. */
static int fpu_put(struct kvm_vcpu *vcpu, const struct vcpu_caps *caps,
		   const struct vcpu_snapshot *s, char *err, size_t err_len)
{
	struct kvm_xsave *buf;
	int ret;

	if (!s->has_xsave) {
		ret = kvm_set_fpu(vcpu, &s->fpu);
		if (ret < 0)
			snprintf(err, err_len, "vcpu %u: fpu: KVM_SET_FPU: %s",
				 s->index, strerror(-ret));
		return ret;
	}
	if (!caps->xsave || s->xsave_bytes > caps->xsave_bytes) {
		snprintf(err, err_len,
			 "vcpu %u: xsave: %u bytes, this host's KVM takes %u",
			 s->index, s->xsave_bytes,
			 caps->xsave ? caps->xsave_bytes : 0);
		return -EINVAL;
	}
	buf = calloc(1, caps->xsave_bytes);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, s->xsave, s->xsave_bytes);
	ret = kvm_set_xsave(vcpu, buf);
	free(buf);
	if (ret < 0)
		snprintf(err, err_len, "vcpu %u: xsave: KVM_SET_XSAVE: %s",
			 s->index, strerror(-ret));
	return ret;
}

/* The MSRs in stream order (IA32_TSC first) but those KVM refuses at their
 * reset value; KVM_SET_MSRS stops at the first MSR it refuses. */
static int msrs_put(struct kvm_vcpu *vcpu, const struct vcpu_snapshot *s,
		    char *err, size_t err_len)
{
	struct kvm_msrs *m = msrs_alloc(MSR_CHUNK);
	uint32_t i = 0;
	int ret = 0;

	if (!m)
		return -ENOMEM;
	while (i < s->nr_msrs && !ret) {
		m->nmsrs = 0;
		for (; i < s->nr_msrs && m->nmsrs < MSR_CHUNK; i++) {
			if (s->msrs[i].index == MSR_KVM_ASYNC_PF_INT &&
			    !s->msrs[i].data)
				continue;
			m->entries[m->nmsrs++] = s->msrs[i];
		}
		ret = m->nmsrs ? kvm_set_msrs(vcpu, m) : 0;
		if (ret >= 0 && (uint32_t)ret < m->nmsrs) {
			snprintf(err, err_len,
				 "vcpu %u: msrs: KVM refused MSR 0x%x = 0x%llx",
				 s->index, m->entries[ret].index,
				 (unsigned long long)m->entries[ret].data);
			ret = -EINVAL;
		} else if (ret < 0) {
			snprintf(err, err_len, "vcpu %u: msrs: KVM_SET_MSRS: %s",
				 s->index, strerror(-ret));
		} else {
			ret = 0;
		}
	}
	free(m);
	return ret;
}

/*
 * KVM (6.1 and before "user_set_tsc") takes a host write of IA32_TSC that
 * lands within one second of the TSC it expects for that VM for an attempt
 * to synchronize vCPUs, and gives the vCPU the VM's current offset instead
 * of the value written. A destination VM created moments before the load
 * expects a TSC near 0, so a guest that had run under a second (or one
 * whose TSC happens to be near) would get its TSC moved, backwards
 * included, and kvmclock with it. Writing a value far away first moves
 * the expectation: the real write then differs from it by far more than a
 * second and is taken as written. Every vCPU does it: matched to the
 * boot vCPU's offset, a later vCPU read back less than its saved TSC in
 * the test VM (the in-process migration test), so each gets its own value
 * exactly, as saved; KVM then keeps no master clock for the VM, and the
 * guest's kvmclock keeps itself monotonic, as on hosts without a stable
 * TSC.
 */
#define TSC_DECOY_CYCLES (1ull << 42) /* about 20 min at 3.5 GHz */

static int tsc_step_away(struct kvm_vcpu *vcpu, const struct vcpu_snapshot *s,
			 char *err, size_t err_len)
{
	struct kvm_msrs *m;
	int ret = 0;

	if (!s->nr_msrs || s->msrs[0].index != MSR_IA32_TSC)
		return 0;
	m = msrs_alloc(1);
	if (!m)
		return -ENOMEM;
	m->nmsrs = 1;
	m->entries[0] = s->msrs[0];
	m->entries[0].data += TSC_DECOY_CYCLES;
	ret = kvm_set_msrs(vcpu, m);
	free(m);
	if (ret != 1) {
		snprintf(err, err_len, "vcpu %u: msrs: KVM refused IA32_TSC%s%s",
			 s->index, ret < 0 ? ": " : "",
			 ret < 0 ? strerror(-ret) : "");
		return ret < 0 ? ret : -EINVAL;
	}
	return 0;
}

/* Names the step that failed; 0 passes through. */
static int step(int ret, const struct vcpu_snapshot *s, const char *what,
		char *err, size_t err_len)
{
	if (ret < 0)
		snprintf(err, err_len, "vcpu %u: %s: %s", s->index, what,
			 strerror(-ret));
	return ret < 0 ? ret : 0;
}

/*
 * The restore order, each constraint with its reason (KVM API documentation,
 * arch/x86/kvm/x86.c; Firecracker and QEMU order it the same way):
 *  1. SREGS before REGS and before LAPIC: SET_SREGS sets CR0/CR4/EFER (the
 *     mode REGS are interpreted in) and the APIC base MSR, i.e. whether the
 *     LAPIC is enabled and in xAPIC or x2APIC mode, which decides how
 *     SET_LAPIC reads the ID register. With PAE paging it also reloads the
 *     PDPTEs from guest memory: memory must be in place before the load.
 *  2. REGS before VCPU_EVENTS: SET_REGS drops any pending exception, which
 *     VCPU_EVENTS restores.
 *  3. FPU/XSAVE then XCRS: independent of the rest (CPUID, set at vCPU
 *     creation, decides which XCR0 bits are allowed).
 *  4. DEBUGREGS: independent.
 *  5. LAPIC before MSRS: KVM drops a write of IA32_TSC_DEADLINE unless the
 *     LVT timer is already in TSC-deadline mode.
 *  6. MSRS, IA32_TSC first within them: the TSC deadline is a TSC value,
 *     and kvmclock MSRs refer to the TSC. The TSC then counts on from the
 *     saved value, so the guest's rdtsc continues where it stopped (each
 *     write is preceded by a decoy: tsc_step_away()).
 *  7. VCPU_EVENTS after REGS, SREGS (whose interrupt bitmap queues an
 *     interrupt that the events then state exactly) and LAPIC; it also
 *     latches a pending INIT.
 *  8. MP_STATE last: setting it earlier lets later ioctls override it
 *     (SET_SREGS at the reset vector makes a BSP runnable), KVM refuses
 *     INIT_RECEIVED while VCPU_EVENTS latched an INIT, and a secondary
 *     vCPU created in wait-for-SIPI must stay there until its registers are
 *     final or it would run from its reset state.
 */
int vcpu_snapshot_put(struct kvm_vcpu *vcpu, const struct vcpu_caps *caps,
		      const struct vcpu_snapshot *s, char *err, size_t err_len)
{
	int ret;

	ret = step(kvm_set_sregs(vcpu, &s->sregs), s, "sregs", err, err_len);
	ret = ret ?: step(kvm_set_regs(vcpu, &s->regs), s, "regs", err,
			  err_len);
	ret = ret ?: fpu_put(vcpu, caps, s, err, err_len);
	if (!ret && s->has_xcrs && !caps->xcrs) {
		snprintf(err, err_len, "vcpu %u: xcrs: this host's KVM has none",
			 s->index);
		return -EINVAL;
	}
	if (!ret && s->has_xcrs)
		ret = step(kvm_set_xcrs(vcpu, &s->xcrs), s, "xcrs", err,
			   err_len);
	ret = ret ?: step(kvm_set_debugregs(vcpu, &s->debugregs), s,
			  "debugregs", err, err_len);
	ret = ret ?: step(kvm_set_lapic(vcpu, &s->lapic), s, "lapic", err,
			  err_len);
	ret = ret ?: tsc_step_away(vcpu, s, err, err_len);
	ret = ret ?: msrs_put(vcpu, s, err, err_len);
	ret = ret ?: step(kvm_set_vcpu_events(vcpu, &s->events), s, "events",
			  err, err_len);
	ret = ret ?: step(kvm_set_mp_state(vcpu, s->mp_state), s, "mp_state",
			  err, err_len);
	return ret;
}
