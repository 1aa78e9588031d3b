// SPDX-License-Identifier: MIT
/* Reads a guest's files whole (see image_file.h). */
#include "vmm/boot/image_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int image_file_read(const char *path, const char *what, uint64_t max_bytes,
		    void **buf_out, size_t *len_out, char *err, size_t err_len)
{
	struct stat st;
	ssize_t got = 0;
	uint8_t *buf;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(-ret));
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(err, err_len, "%s: not a regular file", path);
		goto close_fd;
	}
	if ((uint64_t)st.st_size > max_bytes) {
		ret = -EFBIG;
		snprintf(err, err_len,
			 "%s: %s (%lld bytes) is larger than guest RAM (%llu bytes)",
			 path, what, (long long)st.st_size,
			 (unsigned long long)max_bytes);
		goto close_fd;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, err_len, "%s: out of memory", path);
		goto close_fd;
	}
	for (size_t done = 0; done < (size_t)st.st_size; done += (size_t)got) {
		got = read(fd, buf + done, (size_t)st.st_size - done);
		if (got <= 0) {
			ret = got < 0 ? -errno : -EIO;
			snprintf(err, err_len, "%s: read: %s", path,
				 got < 0 ? strerror(-ret) : "short read");
			free(buf);
			goto close_fd;
		}
	}
	*buf_out = buf;
	*len_out = (size_t)st.st_size;
	ret = 0;
close_fd:
	if (fd >= 0)
		close(fd);
	return ret;
}
