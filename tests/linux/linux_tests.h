/* SPDX-License-Identifier: MIT */
/* What the Linux suites share: Debian's kernel and the tests' initramfs. */
#ifndef KVMTRACK_TESTS_LINUX_H
#define KVMTRACK_TESTS_LINUX_H

#include <stdbool.h>

/* tests/linux/fetch-kernel.sh puts Debian's kernel here. */
#define CACHE_DIR "tests/linux-cache"
#define VMLINUX CACHE_DIR "/vmlinux"
#define VMLINUZ CACHE_DIR "/vmlinuz"
#define KERNEL_PACKAGE CACHE_DIR "/package"
/* tests/linux/initramfs/: busybox, /init and the writer. */
#define INITRAMFS "tests/linux/initramfs.cpio.gz"

struct mig_host;

/* Boots Debian's kernel with the writer (`kt.then=writer` and args, e.g.
 * "kt.mib=64 kt.rate=5000") on cpus vCPUs and waits for its first passing
 * check of its whole buffer (linux_writer.c). */
void linux_boot_writer(struct mig_host *h, const char *name, const char *cpus,
		       const char *args);
/* The number of the last "TAG: check N ok" in a console file, 0 if none;
 * *bad says whether a check failed. */
long writer_last_check(const char *path, const char *tag, bool *bad);
/* Waits until the writer called tag has passed a check after `after`;
 * false on a timeout or a failed check. */
bool writer_wait_check(const struct mig_host *h, const char *tag, long after,
		       int timeout_ms);

#endif
