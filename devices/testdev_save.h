/* SPDX-License-Identifier: MIT */
/*
 * The test device's model (testdev_model.h) in a migration: the registry
 * hooks that write and read its "device:testdev" section (migrate/vm_state.h).
 * What travels and what stays behind is said in testdev_save.c.
 */
#ifndef KVMTRACK_TESTDEV_SAVE_H
#define KVMTRACK_TESTDEV_SAVE_H

#include <stddef.h>
#include <stdint.h>

struct wbuf;
struct rbuf;

/* The section version testdev_save() writes, the only one testdev_load()
 * reads. */
#define TESTDEV_STATE_VERSION 1u

/* Appends the state of the struct testdev at state: 0, or w's error. */
int testdev_save(void *state, struct wbuf *w);
/*
 * Replaces the state of the struct testdev at state with what r holds:
 * 0, or -EINVAL (another version, a value the model cannot hold) /
 * -EBADMSG (truncated) with the field named in err.
 */
int testdev_load(void *state, struct rbuf *r, uint32_t version, char *err,
		 size_t err_len);

#endif
