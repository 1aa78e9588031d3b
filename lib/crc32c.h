/* SPDX-License-Identifier: MIT */
/* CRC32C (Castagnoli), which checks every frame of the migration stream. */
#ifndef KVMTRACK_CRC32C_H
#define KVMTRACK_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC32C of data; start with crc = 0, chain by passing it back. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

#endif
