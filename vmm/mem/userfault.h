/* SPDX-License-Identifier: MIT */
/*
 * userfaultfd on guest RAM, for memory that is put in place after the
 * guest started (the lazy restore): missing pages of a registered range
 * fault to a reader of the descriptor, which fills each one in with
 * userfault_copy() or userfault_zero(). The guest's vCPUs fault through
 * KVM the same way as the VMM's own threads. Each call returns 0 or
 * -errno.
 */
#ifndef KVMTRACK_USERFAULT_H
#define KVMTRACK_USERFAULT_H

#include <stdint.h>

/* A userfaultfd (non-blocking, close-on-exec) with its API handshake. */
int userfault_open(int *fd);
/* Missing-page faults of [hva, hva + len) go to fd from now on. */
int userfault_register(int fd, void *hva, uint64_t len);
int userfault_unregister(int fd, void *hva, uint64_t len);
/*
 * The next fault: 1 and its address (page aligned), 0 when none is
 * pending, -errno on error. Other events are skipped.
 */
int userfault_next(int fd, uint64_t *addr);
/* Fills the missing page at dst with 4 KiB from src, or with zeros, and
 * wakes whoever faulted on it. -EEXIST: it was already there. */
int userfault_copy(int fd, uint64_t dst, const void *src);
int userfault_zero(int fd, uint64_t dst);

#endif
