/* SPDX-License-Identifier: MIT */
/* Reading a guest's files (kernel image, initrd) whole, bounded by its RAM. */
#ifndef KVMTRACK_IMAGE_FILE_H
#define KVMTRACK_IMAGE_FILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads the whole regular file at path into a malloc'ed buffer, refusing
 * files larger than max_bytes ("what" names the file's role in messages:
 * "image", "initrd"). Returns 0 or -errno with err set.
 */
int image_file_read(const char *path, const char *what, uint64_t max_bytes,
		    void **buf_out, size_t *len_out, char *err, size_t err_len);

#endif
