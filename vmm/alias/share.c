// SPDX-License-Identifier: MIT
/*
 * Shared files (--share): a host file mapped read-only, to back a
 * KVM_MEM_READONLY memslot. Opened O_RDONLY and mapped PROT_READ
 * MAP_SHARED, so the file can never be written through it and every
 * process mapping it uses the same page-cache pages: N guests reading one
 * file hold it once in host memory (each process's PSS for the mapping is
 * its size / N). MAP_POPULATE maps the pages at once, so the guest's first
 * reads do not fault them in one by one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/alias/share.h"
#include "vmm/mem/memory.h"

int share_map_open(const char *name, const char *path, struct share_map *s,
		   char *err, size_t err_len)
{
	struct stat st;
	int e;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		e = errno;
		snprintf(err, err_len, "shared file %s: cannot open %s: %s",
			 name, path, strerror(e));
		return -e;
	}
	if (fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(err, err_len,
			 "shared file %s: %s is not a non-empty regular file",
			 name, path);
		goto close_fd;
	}
	s->file_bytes = (uint64_t)st.st_size;
	s->map_bytes = (s->file_bytes + GUEST_PAGE_BYTES - 1) &
		       ~(GUEST_PAGE_BYTES - 1);
	/* The tail of the last page past EOF reads as zeros. */
	s->hva = mmap(NULL, s->map_bytes, PROT_READ, MAP_SHARED | MAP_POPULATE,
		      s->fd, 0);
	if (s->hva == MAP_FAILED) {
		e = errno;
		s->hva = NULL;
		snprintf(err, err_len, "shared file %s: mmap %s: %s", name,
			 path, strerror(e));
		close(s->fd);
		s->fd = -1;
		return -e;
	}
	return 0;
close_fd:
	close(s->fd);
	s->fd = -1;
	return -EINVAL;
}

void share_map_close(struct share_map *s)
{
	if (s->hva)
		munmap(s->hva, s->map_bytes);
	if (s->fd >= 0)
		close(s->fd);
	s->hva = NULL;
	s->fd = -1;
}
