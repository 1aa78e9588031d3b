/* SPDX-License-Identifier: MIT */
/* Receiving guest RAM on the destination (ram_recv.c). */
#ifndef KVMTRACK_RAM_RECV_H
#define KVMTRACK_RAM_RECV_H

struct incoming;

/*
 * Applies the RAM or SPARSE frame whose header mig_recv() just read, and
 * keeps the destination's digest current. Fails on a frame that does not
 * fit the memory layout or is malformed.
 */
int ram_recv_frame(struct incoming *in);

#endif
