/* SPDX-License-Identifier: MIT */
/*
 * Shared files (--share, share.c): a host file mapped read-only, the
 * backing of a shared-file window (alias.h).
 */
#ifndef KVMTRACK_ALIAS_SHARE_H
#define KVMTRACK_ALIAS_SHARE_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/alias/alias.h"

/* A host file mapped read-only. */
struct share_map {
	char name[SHARE_NAME_MAX];
	char path[256];
	int fd;
	uint8_t *hva;
	uint64_t file_bytes;
	uint64_t map_bytes; /* file_bytes rounded up to a page */
};

/*
 * Opens path read-only and maps it whole (the tail of its last page reads
 * as zeros), filling s; -errno with err naming the share and the reason.
 */
int share_map_open(const char *name, const char *path, struct share_map *s,
		   char *err, size_t err_len);
/* Unmaps and closes s; a share never opened or already closed is a no-op. */
void share_map_close(struct share_map *s);

#endif
