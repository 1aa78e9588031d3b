/* SPDX-License-Identifier: MIT */
/*
 * Read-only windows (aliases and shared files) in a migration. They travel
 * as mappings in the CONFIG frame, never as memory: an alias's backing is
 * RAM, sent once per region; a shared file is not sent at all, the
 * destination maps its own copy (its --share) and the two are compared by
 * digest before any memory is taken.
 */
#ifndef KVMTRACK_WINDOWS_H
#define KVMTRACK_WINDOWS_H

#include <stddef.h>

struct guest_mem;
struct wbuf;
struct rbuf;

/* Appends the source's windows: u32 count, then per window u8 kind, u64
 * gpa, u64 size, u64 src_gpa, str name, u64 file_bytes, u64 digest. */
void windows_put(const struct guest_mem *mem, struct wbuf *w);

/* Recreates them at the destination (whose shared files come from its
 * own --share). -EINVAL with a message naming the window on mismatch. */
int windows_apply(struct guest_mem *mem, struct rbuf *r, char *err,
		  size_t err_len);

#endif
