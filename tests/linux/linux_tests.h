/* SPDX-License-Identifier: MIT */
/* What the Linux suites share: Debian's kernel and the tests' initramfs. */
#ifndef KVMTRACK_TESTS_LINUX_H
#define KVMTRACK_TESTS_LINUX_H

/* tests/linux/fetch-kernel.sh puts Debian's kernel here. */
#define CACHE_DIR "tests/linux-cache"
#define VMLINUX CACHE_DIR "/vmlinux"
#define VMLINUZ CACHE_DIR "/vmlinuz"
#define KERNEL_PACKAGE CACHE_DIR "/package"
/* tests/linux/initramfs/: busybox, /init and the writer. */
#define INITRAMFS "tests/linux/initramfs.cpio.gz"

#endif
