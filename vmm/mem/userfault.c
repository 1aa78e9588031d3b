// SPDX-License-Identifier: MIT
/* userfaultfd on guest RAM (userfault.h). */
#include "vmm/mem/userfault.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE_BYTES 4096ull

int userfault_open(int *fd)
{
	struct uffdio_api api = {.api = UFFD_API};

	*fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (*fd < 0)
		return -errno;
	if (ioctl(*fd, UFFDIO_API, &api)) {
		int ret = -errno;

		close(*fd);
		*fd = -1;
		return ret;
	}
	return 0;
}

int userfault_register(int fd, void *hva, uint64_t len)
{
	struct uffdio_register reg = {
	    .range = {.start = (uint64_t)(uintptr_t)hva, .len = len},
	    .mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	return ioctl(fd, UFFDIO_REGISTER, &reg) ? -errno : 0;
}

int userfault_unregister(int fd, void *hva, uint64_t len)
{
	struct uffdio_range range = {.start = (uint64_t)(uintptr_t)hva,
				     .len = len};

	return ioctl(fd, UFFDIO_UNREGISTER, &range) ? -errno : 0;
}

int userfault_next(int fd, uint64_t *addr)
{
	struct uffd_msg msg;

	for (;;) {
		ssize_t n = read(fd, &msg, sizeof(msg));

		if (n < 0)
			return errno == EAGAIN	? 0
			       : errno == EINTR ? 0
						: -errno;
		if (n != sizeof(msg))
			return -EIO;
		if (msg.event == UFFD_EVENT_PAGEFAULT) {
			*addr = msg.arg.pagefault.address & ~(PAGE_BYTES - 1);
			return 1;
		}
	}
}

/* EAGAIN: the address space changed under the copy; it is retried. */
int userfault_copy(int fd, uint64_t dst, const void *src)
{
	struct uffdio_copy c = {
	    .dst = dst, .src = (uint64_t)(uintptr_t)src, .len = PAGE_BYTES};

	while (ioctl(fd, UFFDIO_COPY, &c))
		if (errno != EAGAIN)
			return -errno;
	return 0;
}

int userfault_zero(int fd, uint64_t dst)
{
	struct uffdio_zeropage z = {.range = {.start = dst, .len = PAGE_BYTES}};

	while (ioctl(fd, UFFDIO_ZEROPAGE, &z))
		if (errno != EAGAIN)
			return -errno;
	return 0;
}
