// SPDX-License-Identifier: MIT
/*
 * Taking a checkpoint (checkpoint.h): the chain's next name and parent,
 * the pages copied into the memory file while the guest runs, then with
 * it paused those it wrote meanwhile and its state, then the files synced
 * and the checkpoint committed by one rename.
 */
#include "checkpoint/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint/chain.h"
#include "checkpoint/checkpointer_types.h"
#include "checkpoint/machine.h"
#include "checkpoint/merge.h"
#include "checkpoint/recover.h"
#include "checkpoint/pages.h"
#include "lib/clock.h"
#include "lib/wire.h"
#include "migrate/converge.h"
#include "migrate/vm_state.h"
#include "vmm/dirty/dirty.h"
#include "vmm/vm.h"

/* One checkpoint on its way. */
struct take {
	struct checkpointer *c;
	const struct ckpt_request *rq;
	char dir[PATH_MAX];
	struct ckpt_manifest *m;
	struct ckpt_keys *keys; /* rq->mac_psk's; the layer's key is the first */
	const struct ckpt_key *key;
	int lock_fd; /* the chain's, held throughout */
	struct layer_pages lp;
	struct wbuf state, pages, manifest;
	int tmp_fd, mem_fd;
	bool incremental;
	bool consumed;	      /* the dirty bits since the last one are gone */
	uint64_t taken_pages; /* dirty pages take_dirty() copied */
	uint64_t pause_pages; /* those copied with the guest paused */
	uint64_t pause_us[CKPT_PAUSE_STEPS]; /* where the pause went */
	unsigned int passes;
	char switchover[96];
};

static uint64_t lap_us(uint64_t *t)
{
	uint64_t now = clock_now_ns(), us = (now - *t) / 1000;

	*t = now;
	return us;
}

/* An incremental checkpoint's parent must be the last one taken here,
 * unchanged: the dirty set holds what was written since that one. */
static int check_parent(struct take *t, const char *newest, char *err,
			size_t err_len)
{
	struct checkpointer *c = t->c;
	struct ckpt_layer *l;
	int ret;

	if (!c->attached || !c->last[0] || strcmp(c->dir, t->dir) ||
	    strcmp(c->last, newest)) {
		snprintf(
		    err, err_len,
		    "cannot take an incremental checkpoint after %s/%s: this "
		    "kvmtrack did not take it last, so it does not know what "
		    "changed since (take a full one, without --incremental)",
		    t->dir, newest);
		return -EINVAL;
	}
	l = malloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	ret = ckpt_layer_read(t->dir, newest, l, err, err_len);
	if (!ret && l->digest != c->last_digest) {
		snprintf(err, err_len,
			 "checkpoint %s changed since it was taken", newest);
		ret = -EINVAL;
	}
	/* A chain is authenticated throughout, or not at all. */
	if (!ret && !t->key != (l->m.auth.kind == CKPT_AUTH_NONE)) {
		snprintf(err, err_len,
			 "checkpoint %s %s: an incremental one after it must be "
			 "too (take a full one to change)",
			 newest, t->key ? "carries no MAC" :
				  "is authenticated, give --mac-psk");
		ret = -EINVAL;
	}
	t->m->parent_digest = l->digest;
	memcpy(t->m->auth.parent_tag, l->link_tag, CKPT_TAG_BYTES);
	free(l);
	return ret;
}

/* Its directory, name and parent. */
static int plan(struct take *t, char *err, size_t err_len)
{
	char newest[CKPT_NAME_MAX] = "";
	int ret;

	if (mkdir(t->rq->dir, 0755) && errno != EEXIST) {
		snprintf(err, err_len, "%s: %s", t->rq->dir, strerror(errno));
		return -errno;
	}
	if (!realpath(t->rq->dir, t->dir)) {
		snprintf(err, err_len, "%s: %s", t->rq->dir, strerror(errno));
		return -errno;
	}
	ret = ckpt_chain_lock(t->dir, &t->lock_fd, err, err_len);
	ret = ret ?: ckpt_chain_recover(t->dir, t->keys, err, err_len);
	if (ret)
		return ret;
	ret = ckpt_chain_newest(t->dir, newest, err, err_len);
	if (ret && ret != -ENOENT)
		return ret;
	/* The first checkpoint of a chain is full, asked or not. */
	t->incremental = t->rq->incremental && newest[0];
	if (t->incremental) {
		ret = check_parent(t, newest, err, err_len);
		if (ret)
			return ret;
		snprintf(t->m->parent, sizeof(t->m->parent), "%s", newest);
	}
	ckpt_next_name(newest, t->m->name);
	return 0;
}

/*
 * Moves the dirty bits out of the set; keep: the pages into the layer.
 * clear (after a dirty_sync() that deferred it): KVM's bits of each chunk
 * are cleared just before its pages are read, so that a write racing
 * with the copy is logged again and the page copied again at the pause.
 */
static int take_dirty(struct take *t, bool keep, bool clear)
{
	struct dirty_tracker *tracker = vm_dirty(t->c->vm);
	const struct guest_mem *mem = vm_mem(t->c->vm);
	uint64_t buf[64];
	int ret = 0;

	t->consumed = true;
	for (unsigned int r = 0; r < mem->nr_regions && !ret; r++) {
		uint64_t words = (mem_region_pages(&mem->regions[r]) + 63) / 64;

		for (uint64_t w = 0; w < words && !ret; w += 64) {
			uint64_t n = words - w < 64 ? words - w : 64;

			if (!dirty_set_take(tracker, &t->c->set, r, w, n,
					    buf) ||
			    !keep)
				continue;
			for (uint64_t i = 0; i < n; i++)
				t->taken_pages +=
				    (uint64_t)__builtin_popcountll(buf[i]);
			if (clear)
				ret = dirty_clear_bits(tracker, r, w * 64,
						       n * 64, buf);
			ret = ret
				  ?: layer_pages_add_bits(&t->lp, r, w * 64,
							  buf, n);
		}
	}
	return ret;
}

/*
 * While the guest runs: every page with data (a full checkpoint) or
 * those written since the parent. The set is attached at the first
 * checkpoint before any page is read, so that a page written after its
 * copy is in the set when the guest pauses.
 */
static int copy_live(struct take *t)
{
	struct checkpointer *c = t->c;
	int ret = 0;

	if (!c->attached) {
		ret = dirty_set_init(&c->set, vm_mem(c->vm));
		ret = ret ?: dirty_attach(vm_dirty(c->vm), &c->set);
		if (ret)
			return ret;
		c->attached = true;
	} else if (t->incremental) {
		ret = dirty_sync(vm_dirty(c->vm), true);
		ret = ret ?: take_dirty(t, true, true);
	} else {
		/* Every page is copied below: the bits only need to go. */
		ret = dirty_sync(vm_dirty(c->vm), false);
		ret = ret ?: take_dirty(t, false, false);
	}
	if (!ret && !t->incremental)
		ret = layer_pages_add_written(&t->lp);
	/* Not a page left to write once the guest is paused. */
	return ret ?: layer_pages_flush(&t->lp);
}

/*
 * The live passes after the first: while the policy says another pass
 * leaves a shorter pause (converge.c, the migration's), the pages the
 * guest wrote during the last one are copied again while it runs.
 */
static int copy_passes(struct take *t)
{
	struct checkpointer *c = t->c;
	uint64_t start = clock_now_ns(), copied = 0, prev = 0;
	int ret = copy_live(t);

	for (t->passes = 1; !ret; t->passes++) {
		struct converge_input in = {
		    .downtime_limit_ms = t->rq->max_pause_ms,
		    .fixed_downtime_ms = c->fixed_pause_us / 1000.0,
		    .pass = t->passes,
		    .max_passes = t->rq->max_passes,
		    .prev_remaining_pages = prev,
		};
		uint64_t now = clock_now_ns(), pass_pages;
		struct converge_decision d;

		pass_pages = t->lp.copied_pages - copied;
		copied = t->lp.copied_pages;
		/* A pass of a few pages measures the syscalls, not the copy. */
		if (pass_pages >= 64)
			c->bytes_per_s = pass_pages * (double)GUEST_PAGE_BYTES *
					 1e9 / (double)(now - start + 1);
		ret = dirty_sync(vm_dirty(c->vm), true);
		if (ret)
			break;
		in.remaining_pages = dirty_set_count(&c->set);
		in.working_set_pages = in.remaining_pages;
		in.bandwidth = c->bytes_per_s;
		in.pass_s = (now - start) / 1e9;
		prev = in.remaining_pages;
		converge_decide(&in, &d);
		if (d.action != CONVERGE_ITERATE) {
			snprintf(t->switchover, sizeof(t->switchover), "%s",
				 d.reason);
			break;
		}
		start = clock_now_ns();
		ret = take_dirty(t, true, true) ?: layer_pages_flush(&t->lp);
	}
	return ret;
}

/* With the guest paused: what it wrote since the last pass. */
static int copy_final(struct take *t)
{
	int ret = dirty_sync(vm_dirty(t->c->vm), false);

	t->taken_pages = 0;
	ret = ret ?: take_dirty(t, true, false);
	t->pause_pages = t->taken_pages;
	return ret ?: layer_pages_flush(&t->lp);
}

/*
 * The pages are copied into the memory file (the page cache holds the
 * copy) while the guest runs, then it is paused for the pages it wrote
 * since the last pass and its state. The pause grows with what the guest
 * writes during one short pass, not with the layer. It ends when the
 * resume is issued: the guest runs from then on, while this thread may
 * wait for a CPU (the resume's own time is in the breakdown).
 */
static int copy_layer(struct take *t, char *err, size_t err_len)
{
	struct checkpointer *c = t->c;
	struct vm *vm = c->vm;
	uint64_t t0, lap;
	int ret = copy_passes(t), paused;

	if (ret) {
		snprintf(err, err_len, "writing the pages: %s", strerror(-ret));
		return ret;
	}
	t0 = lap = clock_now_ns();
	ret = vm_pause(vm);
	paused = ret == 0;
	t->pause_us[CKPT_PAUSE_STOP] = lap_us(&lap);
	if (ret && ret != -EALREADY) {
		snprintf(err, err_len, "cannot pause the guest: %s",
			 strerror(-ret));
		return ret;
	}
	ret = copy_final(t);
	t->pause_us[CKPT_PAUSE_PAGES] = lap_us(&lap);
	if (ret)
		snprintf(err, err_len, "writing the pages: %s", strerror(-ret));
	if (!ret) {
		ret = vm_state_save(vm, &t->state) ?: t->state.err;
		if (ret)
			snprintf(err, err_len, "saving the machine state: %s",
				 strerror(-ret));
	}
	t->pause_us[CKPT_PAUSE_STATE] = lap_us(&lap);
	t->m->pause_ns = lap - t0;
	c->fixed_pause_us =
	    t->pause_us[CKPT_PAUSE_STOP] + t->pause_us[CKPT_PAUSE_STATE];
	/* A guest paused before is left so; --stop leaves it paused. */
	if (paused && !t->rq->stop)
		vm_resume(vm);
	t->pause_us[CKPT_PAUSE_RESUME] = lap_us(&lap);
	return ret ?: layer_pages_finish(&t->lp, t->m, t->key, &t->pages);
}

/* After the guest resumed: the files, synced, then the manifest. */
static int write_files(struct take *t, char *err, size_t err_len)
{
	struct ckpt_manifest *m = t->m;
	struct timespec now;
	int ret;

	m->files[CKPT_FILE_STATE].size_bytes = t->state.len;
	m->files[CKPT_FILE_STATE].digest =
	    ckpt_bytes_digest(t->state.data, t->state.len);
	clock_gettime(CLOCK_REALTIME, &now);
	m->created_unix_ns =
	    (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	if (t->key)
		ckpt_mac_file(t->key, "state", t->state.data, t->state.len,
			      m->auth.state_tag);
	ret = ckpt_write_file(t->tmp_fd, "state", t->state.data, t->state.len);
	ret = ret
		  ?: ckpt_write_file(t->tmp_fd, "pages", t->pages.data,
				     t->pages.len);
	ret = ret ?: fsync(t->mem_fd) ? -errno : 0;
	ret = ret ?: ckpt_manifest_encode(m, t->key, &t->manifest);
	ret = ret
		  ?: ckpt_write_file(t->tmp_fd, "manifest", t->manifest.data,
				     t->manifest.len);
	if (ret)
		snprintf(err, err_len, "writing the files: %s", strerror(-ret));
	return ret;
}

static int run_take(struct take *t, char *err, size_t err_len)
{
	int ret = ckpt_machine_describe(t->c->vm, &t->m->machine);

	if (ret) {
		snprintf(err, err_len, "describing the machine: %s",
			 strerror(-ret));
		return ret;
	}
	ret = ckpt_dir_begin(t->dir, t->m->name, &t->tmp_fd, err, err_len);
	if (ret)
		return ret;
	t->mem_fd = openat(t->tmp_fd, "memory",
			   O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ret = t->mem_fd < 0
		  ? -errno
		  : layer_pages_init(&t->lp, vm_mem(t->c->vm), t->mem_fd);
	if (ret)
		snprintf(err, err_len, "creating the memory file: %s",
			 strerror(-ret));
	ret = ret ?: copy_layer(t, err, err_len);
	ret = ret ?: write_files(t, err, err_len);
	if (!ret) {
		ret = ckpt_dir_commit(t->dir, t->m->name, t->tmp_fd, err,
				      err_len);
		t->tmp_fd = -1; /* closed by the commit */
	}
	if (ret)
		ckpt_dir_abort(t->dir, t->m->name, t->tmp_fd);
	return ret;
}

static void fill_result(const struct take *t, uint64_t t0,
			struct ckpt_result *res)
{
	const struct ckpt_manifest *m = t->m;

	snprintf(res->name, sizeof(res->name), "%s", m->name);
	snprintf(res->parent, sizeof(res->parent), "%s", m->parent);
	res->digest = t->c->last_digest;
	res->pause_ns = m->pause_ns;
	res->pause_pages = t->pause_pages;
	memcpy(res->pause_us, t->pause_us, sizeof(res->pause_us));
	res->passes = t->passes;
	snprintf(res->switchover, sizeof(res->switchover), "%s", t->switchover);
	res->total_ns = clock_now_ns() - t0;
	res->pages = 0;
	for (unsigned int r = 0; r < m->nr_regions; r++)
		res->pages += m->regions[r].held_pages;
	res->bytes = t->state.len + t->pages.len + t->manifest.len +
		     res->pages * GUEST_PAGE_BYTES;
}

int checkpoint_take(struct checkpointer *c, const struct ckpt_request *rq,
		    struct ckpt_result *res, char *err, size_t err_len)
{
	struct ckpt_request r = *rq;
	struct take t = {
	    .c = c, .rq = &r, .tmp_fd = -1, .mem_fd = -1, .lock_fd = -1};
	uint64_t t0 = clock_now_ns();
	int ret = c->busy ? c->busy(c->busy_arg, err, err_len) : 0;

	r.max_pause_ms = r.max_pause_ms ?: CKPT_DEFAULT_MAX_PAUSE_MS;
	r.max_passes = r.max_passes ?: CKPT_DEFAULT_MAX_PASSES;
	t.m = calloc(1, sizeof(*t.m));
	if (!t.m)
		return -ENOMEM;
	wbuf_init(&t.state);
	wbuf_init(&t.pages);
	wbuf_init(&t.manifest);
	/* A lazily restored guest's pages not in place yet would be holes. */
	vm_mem_wait_filled(c->vm);
	if (!ret && rq->mac_psk) {
		ret = ckpt_keys_load(rq->mac_psk, &t.keys, err, err_len);
		t.key = ret ? NULL : &t.keys->keys[0];
	}
	if (t.key) {
		t.m->auth.kind = CKPT_AUTH_HMAC_SHA256;
		memcpy(t.m->auth.identity, t.key->identity,
		       sizeof(t.m->auth.identity));
	}
	ret = ret ?: plan(&t, err, err_len);
	ret = ret ?: run_take(&t, err, err_len);
	if (!ret) {
		snprintf(c->dir, sizeof(c->dir), "%s", t.dir);
		snprintf(c->last, sizeof(c->last), "%s", t.m->name);
		c->last_digest =
		    ckpt_bytes_digest(t.manifest.data, t.manifest.len);
		fill_result(&t, t0, res);
	} else if (t.consumed) {
		/* What changed since the last one is lost with this one. */
		c->last[0] = '\0';
	}
	if (t.mem_fd >= 0)
		close(t.mem_fd);
	ckpt_chain_unlock(t.lock_fd);
	layer_pages_free(&t.lp);
	wbuf_free(&t.state);
	wbuf_free(&t.pages);
	wbuf_free(&t.manifest);
	ckpt_keys_free(t.keys);
	free(t.m);
	return ret;
}
