/* SPDX-License-Identifier: MIT */
/* Attribute shorthands and the small generic macros every file uses. */
#ifndef KVMTRACK_GUEST_LIB_COMPILER_H
#define KVMTRACK_GUEST_LIB_COMPILER_H

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define __noreturn __attribute__((noreturn))
#define __packed __attribute__((packed))
#define __aligned(n) __attribute__((aligned(n)))

#endif
