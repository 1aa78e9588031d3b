/* SPDX-License-Identifier: MIT */
/*
 * Auto-converge: slows the guest by pausing its vCPUs for a share of every
 * 10 ms period, so that a guest dirtying faster than the link carries lets
 * pre-copy converge.
 */
#ifndef KVMTRACK_THROTTLE_H
#define KVMTRACK_THROTTLE_H

struct vm;
struct throttle;

int throttle_create(struct vm *vm, struct throttle **out);
/* 0 stops throttling; at most 99. */
int throttle_set(struct throttle *t, unsigned int percent);
unsigned int throttle_percent(const struct throttle *t);
void throttle_destroy(struct throttle *t);

#endif
