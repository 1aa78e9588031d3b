// SPDX-License-Identifier: MIT
/*
 * `run --restore DIR[/NAME]`, copy mode (checkpoint.h): the chain read
 * and linked, a VM built for its machine, every layer's memory loaded
 * from the base up and checked page by page, then the newest layer's
 * state. Nothing of the guest runs before all of it is verified.
 */
#include "checkpoint/checkpoint.h"

#include <errno.h>
#include <libfdt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint/chain.h"
#include "checkpoint/chain_load.h"
#include "checkpoint/lazy.h"
#include "checkpoint/merge.h"
#include "checkpoint/recover.h"
#include "checkpoint/machine.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "migrate/alias_state.h"
#include "migrate/receive.h"
#include "migrate/vm_state.h"
#include "vmm/vm.h"
#include "vmm/vm_config.h"

struct ckpt_restored {
	struct vm_config cfg; /* the machine of the chain */
	char cmdline[CKPT_CMDLINE_MAX];
	char dir[PATH_MAX];
	char name[CKPT_NAME_MAX];
	struct ckpt_layer *layers; /* base first */
	unsigned int nr;
	int lock_fd; /* the chain's, while it is read */
	uint64_t pages_read;
	uint64_t start_ns;
	struct ckpt_lazy *lazy; /* --restore-mode lazy */
	/* --mac-psk's: the layers point into them until the fill ends */
	struct ckpt_keys *keys;
};

/* DIR/NAME names a checkpoint (it has a manifest); DIR alone, its chain's
 * newest. */
static int split_spec(struct ckpt_restored *r, const char *spec, char *err,
		      size_t err_len)
{
	char path[PATH_MAX + 16];
	struct stat st;
	char *slash;
	int ret;

	snprintf(path, sizeof(path), "%s/manifest", spec);
	snprintf(r->dir, sizeof(r->dir), "%s", spec);
	if (stat(path, &st) == 0) {
		while ((slash = strrchr(r->dir, '/')) && !slash[1])
			*slash = '\0'; /* trailing slashes */
		slash = strrchr(r->dir, '/');
		snprintf(r->name, sizeof(r->name), "%.31s",
			 slash ? slash + 1 : r->dir);
		if (slash)
			*slash = '\0';
		else
			snprintf(r->dir, sizeof(r->dir), ".");
		return 0;
	}
	ret = ckpt_chain_newest(r->dir, r->name, err, err_len);
	if (ret == -ENOENT)
		snprintf(err, err_len, "%s holds no checkpoint", spec);
	return ret;
}

/* The VM's configuration: the chain's machine, with cfg's devices,
 * console and control socket. -m and -c, when given, must match it. */
static int machine_config(struct ckpt_restored *r, const struct vm_config *cfg,
			  char *err, size_t err_len)
{
	const struct ckpt_machine *mc = &r->layers[r->nr - 1].m.machine;
	uint64_t host = mig_receive_max_ram_bytes();

	/* As a migration destination: sized by the chain only up to this
	 * host's memory, unless -m says the user means it. */
	if (!cfg->mem_explicit && host && mc->mem_bytes > host) {
		snprintf(err, err_len,
			 "checkpoint %s: its guest has %llu MiB of RAM, more "
			 "than this host's %llu MiB of memory (give -m %lluM "
			 "to restore it anyway)",
			 r->name, (unsigned long long)(mc->mem_bytes >> 20),
			 (unsigned long long)(host >> 20),
			 (unsigned long long)(mc->mem_bytes >> 20));
		return -EFBIG;
	}
	if (mc->nr_cpus < 1 || mc->nr_cpus > VM_MAX_CPUS) {
		snprintf(err, err_len,
			 "checkpoint %s: its guest has %u vCPUs, at most %d "
			 "work here",
			 r->name, mc->nr_cpus, VM_MAX_CPUS);
		return -EINVAL;
	}
	if (fdt_check_header(mc->fdt) ||
	    fdt_node_check_compatible(mc->fdt, 0, "kvmtrack,pc")) {
		snprintf(
		    err, err_len,
		    "checkpoint %s: a different machine: not a kvmtrack PC",
		    r->name);
		return -EINVAL;
	}
	if ((cfg->mem_explicit && cfg->mem_bytes != mc->mem_bytes) ||
	    (cfg->cpus_explicit && cfg->nr_cpus != mc->nr_cpus)) {
		snprintf(
		    err, err_len,
		    "checkpoint %s: a different machine: it has %llu MiB of "
		    "RAM and %u vCPUs, -m and -c ask for %llu MiB and %u",
		    r->name, (unsigned long long)(mc->mem_bytes >> 20),
		    mc->nr_cpus, (unsigned long long)(cfg->mem_bytes >> 20),
		    cfg->nr_cpus);
		return -EINVAL;
	}
	r->cfg = *cfg;
	r->cfg.mem_bytes = mc->mem_bytes;
	r->cfg.nr_cpus = mc->nr_cpus;
	snprintf(r->cmdline, sizeof(r->cmdline), "%s", mc->cmdline);
	r->cfg.cmdline = r->cmdline;
	r->cfg.image_path = NULL;
	return 0;
}

/* This kvmtrack's devices must be the checkpoint's, state versions too. */
static int check_devices(const struct ckpt_restored *r, const struct vm *vm,
			 char *err, size_t err_len)
{
	const char *theirs = r->layers[r->nr - 1].m.machine.devices;
	char ours[CKPT_DEVICES_MAX];

	ckpt_machine_devices(vm, ours, sizeof(ours));
	if (!strcmp(ours, theirs))
		return 0;
	snprintf(err, err_len,
		 "checkpoint %s: a different machine: its devices are \"%s\", "
		 "this kvmtrack's \"%s\"",
		 r->name, theirs, ours);
	return -EINVAL;
}

/* A layer's state file, checked against its size, digest and MAC; *data is
 * its bytes (free them). */
static int read_state(const struct ckpt_layer *l, uint8_t **data, char *err,
		      size_t err_len)
{
	const struct ckpt_file_ref *f = &l->m.files[CKPT_FILE_STATE];
	int ret =
	    ckpt_read_file(l->path, "state", f->size_bytes, data, err, err_len);

	uint8_t tag[CKPT_TAG_BYTES];

	if (!ret && l->key) {
		ckpt_mac_file(l->key, "state", *data, f->size_bytes, tag);
		if (!ckpt_mac_equal(tag, l->m.auth.state_tag, CKPT_TAG_BYTES)) {
			snprintf(err, err_len,
				 "the state file fails its MAC (altered)");
			return -EBADMSG;
		}
	}
	if (!ret && ckpt_bytes_digest(*data, f->size_bytes) != f->digest) {
		snprintf(err, err_len,
			 "the state file does not match its digest (altered)");
		ret = -EBADMSG;
	}
	return ret;
}

/* The chain's memory, each page from the newest layer holding it, then
 * the newest layer's state. */
static int load_layers(struct ckpt_restored *r, struct vm *vm, char *err,
		       size_t err_len)
{
	const struct ckpt_machine *mc = &r->layers[r->nr - 1].m.machine;
	uint8_t *state = NULL;
	struct rbuf rb;
	char why[512] = "";
	int ret = 0;

	rbuf_init(&rb, mc->windows, mc->windows_bytes);
	ret = windows_apply(vm_mem(vm), &rb, why, sizeof(why));
	if (!ret) {
		ret =
		    read_state(&r->layers[r->nr - 1], &state, why, sizeof(why));
		if (ret)
			snprintf(err, err_len, "checkpoint %s: %s", r->name,
				 why);
	}
	if (!ret && r->cfg.restore_lazy) {
		/* The lock goes with the pages still to read. */
		ret = ckpt_lazy_start(r->layers, r->nr, vm, r->lock_fd,
				      r->start_ns, &r->lazy, err, err_len);
		r->lock_fd = -1;
	} else if (!ret) {
		ret = ckpt_chain_load_pages(r->layers, r->nr, vm_mem(vm),
					    &r->pages_read, err, err_len);
	}
	if (!ret) {
		const struct ckpt_layer *top = &r->layers[r->nr - 1];

		rbuf_init(&rb, state, top->m.files[CKPT_FILE_STATE].size_bytes);
		ret = vm_state_load(vm, &rb, why, sizeof(why));
		if (ret)
			snprintf(err, err_len,
				 "checkpoint %s: machine state: %s",
				 top->m.name, why);
	} else if (!err[0]) {
		snprintf(err, err_len, "checkpoint %s: %s", r->name, why);
	}
	free(state);
	return ret;
}

/* Where the time went: the VM's creation is most of a lazy start. */
static void log_restored(const struct ckpt_restored *r, uint64_t vm_ns)
{
	double ms = (double)(clock_now_ns() - r->start_ns) / 1e6;

	if (r->lazy)
		log_info("restored checkpoint %s/%s (lazy): %u layers, the "
			 "guest can run %.1f ms after the start (%.1f ms of it "
			 "creating the VM); its pages are put in place, each "
			 "checked, as it touches them and in the background",
			 r->dir, r->name, r->nr, ms, vm_ns / 1e6);
	else
		log_info(
		    "restored checkpoint %s/%s: %u layers, %llu pages read and "
		    "verified in %.1f ms (%.1f ms of it creating the VM)",
		    r->dir, r->name, r->nr, (unsigned long long)r->pages_read,
		    ms, vm_ns / 1e6);
}

int checkpoint_restore(const struct vm_config *cfg, const char *spec,
		       struct ckpt_restored **restored, struct vm **vm_out,
		       char *err, size_t err_len)
{
	struct ckpt_restored *r = calloc(1, sizeof(*r));
	struct vm *vm = NULL;
	uint64_t vm_ns;
	int ret;

	*restored = r;
	*vm_out = NULL;
	if (!r)
		return -ENOMEM;
	r->start_ns = clock_now_ns();
	err[0] = '\0';
	r->lock_fd = -1;
	ret = split_spec(r, spec, err, err_len);
	if (!ret && cfg->restore_mac_psk)
		ret = ckpt_keys_load(cfg->restore_mac_psk, &r->keys, err,
				     err_len);
	ret = ret ?: ckpt_chain_lock(r->dir, &r->lock_fd, err, err_len);
	ret = ret ?: ckpt_chain_recover(r->dir, r->keys, err, err_len);
	ret = ret
		  ?: ckpt_chain_resolve(r->dir, r->name, r->keys, &r->layers,
					&r->nr, err, err_len);
	ret = ret ?: machine_config(r, cfg, err, err_len);
	if (ret)
		return ret;
	vm_ns = clock_now_ns();
	ret = vm_create(&r->cfg, &vm);
	vm_ns = clock_now_ns() - vm_ns;
	if (ret) {
		snprintf(err, err_len, "cannot create the VM: %s",
			 strerror(-ret));
		return ret;
	}
	/* Found while no vCPU runs: see vm_state_prepare(). */
	vm_state_prepare(vm);
	ret = check_devices(r, vm, err, err_len);
	ret = ret ?: load_layers(r, vm, err, err_len);
	ckpt_chain_unlock(r->lock_fd);
	r->lock_fd = -1;
	if (ret) {
		vm_destroy(vm);
		return ret;
	}
	*vm_out = vm;
	log_restored(r, vm_ns);
	return 0;
}

void checkpoint_restored_origin(const struct ckpt_restored *r, const char **dir,
				const char **name, uint64_t *digest)
{
	*dir = r->dir;
	*name = r->name;
	*digest = r->layers[r->nr - 1].digest;
}

void checkpoint_restore_finish(struct ckpt_restored *r)
{
	if (r) {
		ckpt_lazy_finish(r->lazy);
		r->lazy = NULL;
	}
}

void checkpoint_restored_free(struct ckpt_restored *r)
{
	if (!r)
		return;
	ckpt_chain_unlock(r->lock_fd);
	free(r->layers);
	ckpt_keys_free(r->keys);
	free(r);
}
