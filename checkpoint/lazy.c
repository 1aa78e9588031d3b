// SPDX-License-Identifier: MIT
/*
 * The lazy restore (lazy.h): guest RAM registered with userfaultfd, so
 * the guest runs before its memory is in place. One thread answers each
 * first touch (a vCPU through KVM, or a VMM thread) with the page from
 * the newest layer holding it, checked against its hash first; another
 * fills in every other page in order. A page that fails its check can be
 * neither used nor replaced: the process ends, the chain on disk intact.
 */
#include "checkpoint/lazy.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "checkpoint/chain_load.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "vmm/mem/userfault.h"
#include "vmm/vm.h"

struct ckpt_lazy {
	struct chain_pages *cp;
	struct vm *vm;
	struct guest_mem *mem;
	int uffd, stop_fd;
	int lock_fd; /* the chain's, held until every page is read */
	pthread_t fault_thread, fill_thread;
	bool fault_started, fill_started;
	atomic_uint_fast64_t faults, filled;
	/* The fill ended and took the registration away: a fault read after
	 * that was already woken by it and retried as an ordinary one. */
	atomic_bool unregistered;
	uint64_t start_ns;
};

/* No byte of a page that fails its check may reach the guest, and the
 * vCPU that touched it cannot go on without it. */
static void fatal(const char *why)
{
	log_err("--restore-mode lazy: %s: the guest cannot go on without this "
		"page; the checkpoint on disk is unchanged",
		why);
	_exit(1);
}

/* Puts page `page` of region r in place; false if it was already. */
static bool resolve(struct ckpt_lazy *lz, unsigned int r, uint64_t page,
		    uint8_t *buf)
{
	uint64_t dst = (uint64_t)(uintptr_t)lz->mem->regions[r].hva +
		       page * GUEST_PAGE_BYTES;
	char why[512];
	int ret = chain_pages_read(lz->cp, r, page, buf, why, sizeof(why));

	if (ret < 0)
		fatal(why);
	ret = ret ? userfault_copy(lz->uffd, dst, buf)
		  : userfault_zero(lz->uffd, dst);
	if (ret && ret != -EEXIST && atomic_load(&lz->unregistered))
		return false;
	if (ret && ret != -EEXIST) {
		snprintf(why, sizeof(why),
			 "putting the page at GPA %#llx in place: %s",
			 (unsigned long long)(lz->mem->regions[r].gpa +
					      page * GUEST_PAGE_BYTES),
			 strerror(-ret));
		fatal(why);
	}
	return ret == 0;
}

/* The region and page of a faulting address; false if it is not RAM. */
static bool locate(const struct guest_mem *mem, uint64_t addr, unsigned int *r,
		   uint64_t *page)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		uint64_t hva = (uint64_t)(uintptr_t)mem->regions[i].hva;

		if (addr >= hva && addr - hva < mem->regions[i].size_bytes) {
			*r = i;
			*page = (addr - hva) / GUEST_PAGE_BYTES;
			return true;
		}
	}
	return false;
}

static void *fault_main(void *arg)
{
	struct ckpt_lazy *lz = arg;
	uint8_t *buf = malloc(GUEST_PAGE_BYTES);
	struct pollfd fds[2] = {{.fd = lz->uffd, .events = POLLIN},
				{.fd = lz->stop_fd, .events = POLLIN}};

	if (!buf)
		fatal("out of memory");
	while (!(fds[1].revents & POLLIN)) {
		uint64_t addr, page;
		unsigned int r;
		int ret;

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			fatal(strerror(errno));
		while ((ret = userfault_next(lz->uffd, &addr)) == 1)
			if (locate(lz->mem, addr, &r, &page) &&
			    resolve(lz, r, page, buf))
				atomic_fetch_add(&lz->faults, 1);
		if (ret < 0)
			fatal(strerror(-ret));
	}
	free(buf);
	return NULL;
}

/* Every page a layer holds, in order; then the registration goes, and
 * the pages no layer holds are the kernel's zero pages as usual. */
static void *fill_main(void *arg)
{
	struct ckpt_lazy *lz = arg;
	uint8_t *buf = malloc(GUEST_PAGE_BYTES);
	uint64_t eventfd_one = 1;

	if (!buf)
		fatal("out of memory");
	for (unsigned int r = 0; r < lz->mem->nr_regions; r++)
		for (uint64_t p = 0; p < mem_region_pages(&lz->mem->regions[r]);
		     p++)
			if (chain_pages_owned(lz->cp, r, p) &&
			    resolve(lz, r, p, buf))
				atomic_fetch_add(&lz->filled, 1);
	atomic_store(&lz->unregistered, true);
	for (unsigned int r = 0; r < lz->mem->nr_regions; r++)
		userfault_unregister(lz->uffd, lz->mem->regions[r].hva,
				     lz->mem->regions[r].size_bytes);
	if (write(lz->stop_fd, &eventfd_one, sizeof(eventfd_one)) < 0)
		log_err("lazy restore: stopping the fault thread: %s",
			strerror(errno));
	pthread_join(lz->fault_thread, NULL);
	lz->fault_started = false;
	log_info("lazy restore: every page in place %.1f ms after the start: "
		 "%llu on first touch, %llu by the fill",
		 (clock_now_ns() - lz->start_ns) / 1e6,
		 (unsigned long long)atomic_load(&lz->faults),
		 (unsigned long long)atomic_load(&lz->filled));
	ckpt_chain_unlock(lz->lock_fd);
	lz->lock_fd = -1;
	vm_mem_filling(lz->vm, false);
	free(buf);
	return NULL;
}

int ckpt_lazy_start(const struct ckpt_layer *layers, unsigned int nr,
		    struct vm *vm, int lock_fd, uint64_t start_ns,
		    struct ckpt_lazy **out, char *err, size_t err_len)
{
	struct ckpt_lazy *lz = calloc(1, sizeof(*lz));
	int ret;

	*out = lz;
	if (!lz) {
		ckpt_chain_unlock(lock_fd);
		return -ENOMEM;
	}
	lz->lock_fd = lock_fd;
	lz->vm = vm;
	lz->mem = vm_mem(vm);
	lz->start_ns = start_ns;
	lz->uffd = lz->stop_fd = -1;
	ret = chain_pages_open(layers, nr, lz->mem, &lz->cp, err, err_len);
	if (ret)
		return ret;
	ret = userfault_open(&lz->uffd);
	lz->stop_fd = ret ? -1 : eventfd(0, EFD_CLOEXEC);
	if (!ret && lz->stop_fd < 0)
		ret = -errno;
	for (unsigned int r = 0; r < lz->mem->nr_regions && !ret; r++)
		ret = userfault_register(lz->uffd, lz->mem->regions[r].hva,
					 lz->mem->regions[r].size_bytes);
	if (ret) {
		snprintf(err, err_len, "userfaultfd on guest memory: %s",
			 strerror(-ret));
		return ret;
	}
	vm_mem_filling(vm, true);
	ret = -pthread_create(&lz->fault_thread, NULL, fault_main, lz);
	lz->fault_started = !ret;
	ret = ret ?: -pthread_create(&lz->fill_thread, NULL, fill_main, lz);
	lz->fill_started = lz->fault_started && !ret;
	if (ret)
		snprintf(err, err_len, "cannot start the restore's threads: %s",
			 strerror(-ret));
	return ret;
}

void ckpt_lazy_finish(struct ckpt_lazy *lz)
{
	uint64_t one = 1;

	if (!lz)
		return;
	if (lz->fill_started)
		pthread_join(lz->fill_thread, NULL);
	if (lz->fault_started) {
		if (write(lz->stop_fd, &one, sizeof(one)) < 0)
			log_err("lazy restore: %s", strerror(errno));
		pthread_join(lz->fault_thread, NULL);
	}
	ckpt_chain_unlock(lz->lock_fd);
	vm_mem_filling(lz->vm, false);
	if (lz->uffd >= 0)
		close(lz->uffd);
	if (lz->stop_fd >= 0)
		close(lz->stop_fd);
	chain_pages_close(lz->cp);
	free(lz);
}
