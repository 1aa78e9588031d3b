/* SPDX-License-Identifier: MIT */
/* The string functions of the C library that the guest uses. */
#ifndef KVMTRACK_GUEST_LIB_STRING_H
#define KVMTRACK_GUEST_LIB_STRING_H

#include <stddef.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
