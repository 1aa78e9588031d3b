// SPDX-License-Identifier: MIT
/* A checkpointer's life (checkpoint.h): made for a VM, adopting the chain
 * a restored guest came from, destroyed with its dirty set. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "checkpoint/checkpointer_types.h"
#include "vmm/vm.h"

/* Until a checkpoint measured them: on the safe side of what the test VM
 * (TCG, tests/vm/) does, 25 us a page and 1-2 ms to stop and save. */
#define FIRST_FIXED_PAUSE_US 2000
#define FIRST_BYTES_PER_S 100e6

int checkpointer_create(struct vm *vm, ckpt_busy_fn *busy, void *busy_arg,
			struct checkpointer **out)
{
	struct checkpointer *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->vm = vm;
	c->fixed_pause_us = FIRST_FIXED_PAUSE_US;
	c->bytes_per_s = FIRST_BYTES_PER_S;
	c->busy = busy;
	c->busy_arg = busy_arg;
	*out = c;
	return 0;
}

void checkpointer_destroy(struct checkpointer *c)
{
	if (!c)
		return;
	if (c->attached)
		dirty_detach(vm_dirty(c->vm), &c->set);
	dirty_set_free(&c->set);
	free(c);
}

int checkpointer_adopt(struct checkpointer *c, const char *dir,
		       const char *name, uint64_t digest)
{
	int ret;

	if (!realpath(dir, c->dir))
		return -errno;
	ret = dirty_set_init(&c->set, vm_mem(c->vm));
	ret = ret ?: dirty_attach(vm_dirty(c->vm), &c->set);
	if (ret)
		return ret;
	c->attached = true;
	snprintf(c->last, sizeof(c->last), "%s", name);
	c->last_digest = digest;
	return 0;
}
