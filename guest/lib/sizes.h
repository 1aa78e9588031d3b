/* SPDX-License-Identifier: MIT */
/* Page and region sizes (the identity map covers 4 GiB in 2 MiB pages). */
#ifndef KVMTRACK_GUEST_LIB_SIZES_H
#define KVMTRACK_GUEST_LIB_SIZES_H

#include <stdint.h>

#define PAGE_SIZE 4096ul
#define PAGE_SHIFT 12
#define SZ_2M (2ul << 20)
#define SZ_4G (4ul << 30)

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))

#endif
