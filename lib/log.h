/* SPDX-License-Identifier: MIT */
/* Messages to stderr, one line each, prefixed "kvmtrack: ". */
#ifndef KVMTRACK_LOG_H
#define KVMTRACK_LOG_H

__attribute__((format(printf, 1, 2))) void log_err(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void log_info(const char *fmt, ...);

#endif
