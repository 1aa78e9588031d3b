/* SPDX-License-Identifier: MIT */
/*
 * What `kvmtrack run` was asked for: filled by the command line, read by
 * vm.c. Each subsystem's part is its own struct, declared in its header,
 * so the subsystems take only their part and never include this file.
 */
#ifndef KVMTRACK_VM_CONFIG_H
#define KVMTRACK_VM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/alias/alias.h"
#include "vmm/dirty/dirty.h"
#include "vmm/mem/limits.h"

#define VM_DEFAULT_MEM_BYTES (256ull << 20)
#define VM_MIN_MEM_BYTES (2ull << 20)
/* --tls-authz: the names a source's certificate may carry. */
#define VM_MAX_TLS_AUTHZ 8

struct device_ops;

enum serial_kind { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };

struct serial_config {
	enum serial_kind kind;
	const char *path; /* SERIAL_FILE */
};

struct vm_config {
	const char *image_path;
	const char *initrd_path; /* NULL: no initrd */
	uint64_t mem_bytes;
	unsigned int nr_cpus;
	const char *cmdline; /* never NULL after parsing ("" by default) */
	struct serial_config serial;
	const char *control_path; /* NULL: no control socket */
	const char *incoming_uri; /* --incoming: receive a migration */
	/* --tls-creds, --tls-psk, --tls-authz: the incoming stream's TLS
	 * (migrate/tls.h); NULL and 0 without. */
	const char *tls_creds;
	const char *tls_psk;
	const char *tls_authz[VM_MAX_TLS_AUTHZ];
	unsigned int nr_tls_authz;
	const char *restore_path; /* --restore DIR[/NAME]: from a checkpoint */
	/* --mac-psk FILE: its layers' MACs checked under these keys */
	const char *restore_mac_psk;
	/* --restore-mode lazy: the guest runs before its memory is in place */
	bool restore_lazy;
	bool mem_explicit; /* -m given: a migration must match it */
	bool cpus_explicit; /* -c given */
	bool trace_exits;
	bool strict_io; /* an access no device claims stops the VM */
	struct alias_config alias;
	struct dirty_config dirty;
	/* The devices to build, in order (for `run`: devices/registry.h). */
	const struct device_ops *const *devices;
	unsigned int nr_devices;
};

#endif
