// SPDX-License-Identifier: MIT
/* One incoming migration's protocol, without the VM (see receive.h). */
#include "migrate/receive.h"

#include <errno.h>
#include <libfdt.h>
#include <string.h>
#include <unistd.h>

#include "lib/wire.h"
#include "migrate/alias_state.h"
#include "migrate/proto.h"
#include "vmm/mem/memory.h"

#define CONFIG_FDT_MAX_BYTES 65536

uint64_t mig_receive_max_ram_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || page <= 0)
		return 0;
	return (uint64_t)pages * (uint64_t)page;
}

/*
 * The RAM size and vCPU count against this host's limits, before anything
 * is sized by them. A destination started with -m took its size from its
 * user, who may overcommit; the match with it is checked next.
 */
static int check_limits(struct mig_stream *s, const struct vm_config *cfg,
			uint64_t mem, uint32_t cpus)
{
	uint64_t max_mem = mig_receive_max_ram_bytes();
	struct guest_mem plan;

	if (!cfg->mem_explicit && mem > max_mem)
		return mig_stream_fail(s, -EFBIG,
				       "source has %llu MiB of RAM, more than this host's %llu MiB of memory, the most a destination takes",
				       (unsigned long long)(mem >> 20),
				       (unsigned long long)(max_mem >> 20));
	if (mem < VM_MIN_MEM_BYTES || guest_mem_plan(&plan, mem) < 0)
		return mig_stream_fail(s, -EINVAL,
				       "source RAM size %llu is not usable (at least %llu bytes, a multiple of %llu)",
				       (unsigned long long)mem,
				       (unsigned long long)VM_MIN_MEM_BYTES,
				       (unsigned long long)GUEST_PAGE_BYTES);
	if (cpus < 1 || cpus > VM_MAX_CPUS)
		return mig_stream_fail(s, -EINVAL,
				       "source has %u vCPUs, at most %d work here",
				       cpus, VM_MAX_CPUS);
	return 0;
}

void mig_config_put(struct wbuf *w, uint64_t mem_bytes, uint32_t nr_cpus,
		    const char *cmdline, const void *fdt)
{
	size_t at;

	wbuf_put_u64(w, mem_bytes);
	wbuf_put_u32(w, nr_cpus);
	wbuf_put_str(w, cmdline);
	at = wbuf_begin_len(w);
	if (fdt)
		wbuf_put_bytes(w, fdt, fdt_totalsize(fdt));
	wbuf_end_len(w, at);
}

/* The source's machine must match what this destination can be. */
static int check_config(struct mig_receive *rx, const struct vm_config *cfg,
			struct rbuf *r)
{
	struct mig_stream *s = &rx->s;
	struct rbuf fdt_block;
	uint64_t mem = rbuf_get_u64(r);
	uint32_t cpus = rbuf_get_u32(r);
	/* libfdt wants the tree 8-byte aligned: copy it out of the frame. */
	static uint64_t fdt[CONFIG_FDT_MAX_BYTES / 8];
	int ret;

	rbuf_get_str(r, rx->cmdline, sizeof(rx->cmdline));
	fdt_block = rbuf_get_block(r);
	if (fdt_block.len < 64 || fdt_block.len > sizeof(fdt))
		fdt_block.err = -EBADMSG;
	rbuf_get_bytes(&fdt_block, fdt, fdt_block.len);
	if (r->err || fdt_block.err || fdt_check_header(fdt) ||
	    fdt_totalsize(fdt) > fdt_block.len)
		return mig_stream_fail(s, -EBADMSG, "CONFIG frame is malformed");
	ret = check_limits(s, cfg, mem, cpus);
	if (ret)
		return ret;
	if (cfg->mem_explicit && cfg->mem_bytes != mem)
		return mig_stream_fail(s, -EINVAL,
				       "incompatible machine: the source has %llu MiB of RAM, the destination was started with %llu MiB",
				       (unsigned long long)(mem >> 20),
				       (unsigned long long)(cfg->mem_bytes >> 20));
	if (cfg->cpus_explicit && cfg->nr_cpus != cpus)
		return mig_stream_fail(s, -EINVAL,
				       "incompatible machine: the source has %u vCPUs, the destination was started with %u",
				       cpus, cfg->nr_cpus);
	if (fdt_node_check_compatible(fdt, 0, "kvmtrack,pc"))
		return mig_stream_fail(s, -EINVAL,
				       "incompatible machine: the source is not a kvmtrack PC");
	rx->cfg = *cfg;
	rx->cfg.mem_bytes = mem;
	rx->cfg.nr_cpus = cpus;
	rx->cfg.cmdline = rx->cmdline;
	rx->cfg.image_path = NULL;
	return 0;
}

static int build(struct mig_receive *rx, const struct mig_receive_ops *ops,
		 void *arg)
{
	int ret = ops->build(arg, &rx->cfg, &rx->mem);

	ret = ret ?: ram_receiver_init(&rx->ram, rx->mem);
	if (ret)
		return mig_stream_fail(&rx->s, ret,
				       "cannot create the VM here: %s",
				       strerror(-ret));
	return 0;
}

static int receive_setup(struct mig_receive *rx, const struct vm_config *cfg,
			 const struct mig_receive_ops *ops, void *arg)
{
	char why[256] = "";
	struct rbuf r;
	int ret = mig_expect(&rx->s, MIG_HELLO);

	ret = ret ?: mig_expect(&rx->s, MIG_CONFIG);
	if (ret)
		return ret;
	rbuf_init(&r, rx->s.payload, rx->s.len);
	ret = check_config(rx, cfg, &r);
	if (!ret && !rx->mem)
		ret = build(rx, ops, arg);
	if (ret)
		return ret;
	ret = windows_apply(rx->mem, &r, why, sizeof(why));
	if (ret)
		return mig_stream_fail(&rx->s, ret, "incompatible machine: %s",
				       why);
	mig_stream_opened(&rx->s);
	return mig_send_buf(&rx->s, MIG_READY, NULL, 0);
}

static int receive_state(struct mig_receive *rx,
			 const struct mig_receive_ops *ops, void *arg)
{
	char why[256] = "";
	struct rbuf r;
	int ret;

	rbuf_init(&r, rx->s.payload, rx->s.len);
	ret = ops->load_state(arg, &r, why, sizeof(why));
	if (ret)
		return mig_stream_fail(&rx->s, ret, "machine state: %s", why);
	return 0;
}

static int check_digest(struct mig_receive *rx)
{
	struct rbuf r;
	uint64_t theirs, pages;

	rbuf_init(&r, rx->s.payload, rx->s.len);
	theirs = rbuf_get_u64(&r);
	pages = rbuf_get_u64(&r);
	if (r.err)
		return mig_stream_fail(&rx->s, -EBADMSG, "malformed DIGEST");
	if (rx->ram.digest != theirs || rx->ram.nonzero_pages != pages)
		return mig_stream_fail(&rx->s, -EBADMSG,
				       "memory digest mismatch: source %016llx over %llu pages, destination %016llx over %llu pages",
				       (unsigned long long)theirs,
				       (unsigned long long)pages,
				       (unsigned long long)rx->ram.digest,
				       (unsigned long long)rx->ram.nonzero_pages);
	rx->verified = true;
	return 0;
}

/* Every frame before this PASS is applied: tell the source. */
static int pass_applied(struct mig_receive *rx)
{
	uint8_t pass[4];
	int ret;

	if (rx->s.len < 4)
		return mig_stream_fail(&rx->s, -EBADMSG, "short PASS frame");
	ret = ram_recv_pass_end(&rx->ram, &rx->s);
	if (ret)
		return ret;
	memcpy(pass, rx->s.payload, 4);
	rx->passes++;
	return mig_send_buf(&rx->s, MIG_SYNCED, pass, sizeof(pass));
}

/* Frames until the digest: memory, passes, state, then the digest. */
static int receive_body(struct mig_receive *rx,
			const struct mig_receive_ops *ops, void *arg)
{
	bool have_state = false;
	int ret;

	for (;;) {
		ret = mig_recv(&rx->s);
		if (ret)
			return ret;
		switch (rx->s.type) {
		case MIG_RAM:
		case MIG_RAM_LIVE:
		case MIG_SPARSE:
			ret = ram_recv_frame(&rx->ram, &rx->s);
			break;
		case MIG_PASS:
			ret = pass_applied(rx);
			break;
		case MIG_STATE:
			ret = have_state ? mig_stream_fail(&rx->s, -EPROTO,
							   "second STATE frame")
					 : receive_state(rx, ops, arg);
			have_state = true;
			break;
		case MIG_DIGEST:
			if (!have_state)
				return mig_stream_fail(&rx->s, -EPROTO,
						       "DIGEST before STATE");
			return ram_recv_check_torn(&rx->ram, &rx->s) ?:
				       check_digest(rx);
		default:
			return mig_stream_fail(&rx->s, -EPROTO,
					       "unexpected %s frame",
					       mig_frame_name(rx->s.type));
		}
		if (ret)
			return ret;
	}
}

int mig_receive(struct mig_receive *rx, const struct vm_config *cfg,
		const struct mig_receive_ops *ops, void *arg)
{
	int ret = receive_setup(rx, cfg, ops, arg);

	return ret ?: receive_body(rx, ops, arg);
}
