/* SPDX-License-Identifier: MIT */
/* Stop-and-copy, the end of an outgoing migration (stop_copy.c). */
#ifndef KVMTRACK_STOP_COPY_H
#define KVMTRACK_STOP_COPY_H

struct sender;

/*
 * With the vCPUs stopped: the last dirty pages, the machine state and the
 * digest, then the destination's DONE. On failure the caller resumes the
 * guest, unless the outcome is unknown (precopy.c).
 */
int stop_and_copy(struct sender *sd);

#endif
