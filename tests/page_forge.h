/* SPDX-License-Identifier: MIT */
/*
 * An attacker's edit of a page that keeps its page hash (migrate/
 * page_hash.h), and so every digest summed from it: what the checkpoint
 * MAC tests must catch. The page hash is a sum of a bijection of each
 * word times an odd key, so one word changed can be paid for by another.
 */
#ifndef KVMTRACK_TESTS_PAGE_FORGE_H
#define KVMTRACK_TESTS_PAGE_FORGE_H

#include <stdbool.h>
#include <stdint.h>

/* Changes words 0 and 1 of page page_index of the file at path so that
 * its page_hash() stays the same; false if the file could not be read
 * and written, or the hash changed after all. */
bool page_forge_in_file(const char *path, uint64_t page_index);

#endif
