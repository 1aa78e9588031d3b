/* SPDX-License-Identifier: MIT */
/* x509 credentials of the migration channel (see tls_x509.c). */
#ifndef KVMTRACK_TLS_X509_H
#define KVMTRACK_TLS_X509_H

#include <stddef.h>

struct mig_tls;

/* From dir, in QEMU's layout for this end; err names a missing file. */
int mig_tls_load_x509(struct mig_tls *t, const char *dir, char *err,
		      size_t err_len);

#endif
