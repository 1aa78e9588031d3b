/* SPDX-License-Identifier: MIT */
/*
 * A checkpoint's manifest (docs/checkpoint.md): what the checkpoint is
 * (its name, its parent, the machine) and what its other files must be
 * (each one's size and digest). Encoded little-endian, field by field,
 * with lib/wire.h, behind a magic and a version and followed by a CRC32C
 * of everything before it. Pure: no I/O, unit-tested.
 */
#ifndef KVMTRACK_CKPT_MANIFEST_H
#define KVMTRACK_CKPT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint/mac.h"
#include "vmm/mem/memory.h"

#define CKPT_MAGIC 0x544b5043544b544bull /* "KTKTCPKT" */
/* 2 added merged_from; 3 the MACs (written only for an authenticated
 * checkpoint, so that others stay readable by older kvmtracks). */
#define CKPT_VERSION 3u
#define CKPT_NAME_MAX 32 /* with the NUL */
#define CKPT_CMDLINE_MAX 4096
#define CKPT_FDT_MAX_BYTES 65536
#define CKPT_WINDOWS_MAX_BYTES 65536
#define CKPT_DEVICES_MAX 1024
#define CKPT_MANIFEST_MAX_BYTES (256u << 10)

/* The layer files beside the manifest, in this order. */
enum ckpt_file { CKPT_FILE_STATE, CKPT_FILE_PAGES, CKPT_FILE_MEMORY,
		 CKPT_NR_FILES };
extern const char *const ckpt_file_names[CKPT_NR_FILES];

struct ckpt_file_ref {
	uint64_t size_bytes;
	uint64_t digest; /* ckpt_bytes_digest(), or the memory digest */
};

/* One RAM region's place in the memory file. */
struct ckpt_region {
	uint64_t gpa;
	uint64_t size_bytes;
	uint64_t file_offset; /* of its first page in the memory file */
	uint64_t held_pages; /* pages this layer holds */
};

/*
 * What makes two checkpoints the same machine: RAM, vCPUs, command line,
 * the devices with their state versions, the windows. The device tree is
 * kept for the record, not compared: it also shows which memslots are
 * being logged, which changes while the guest runs.
 */
struct ckpt_machine {
	uint64_t mem_bytes;
	uint32_t nr_cpus;
	char cmdline[CKPT_CMDLINE_MAX];
	char devices[CKPT_DEVICES_MAX]; /* "name:version ..." in VM order */
	uint32_t fdt_bytes; /* the device tree as it was at the checkpoint */
	uint8_t fdt[CKPT_FDT_MAX_BYTES];
	uint32_t windows_bytes; /* aliases and shared files (alias_state.h) */
	uint8_t windows[CKPT_WINDOWS_MAX_BYTES];
};

/* A layer authenticated with a pre-shared key (mac.h). */
enum { CKPT_AUTH_NONE, CKPT_AUTH_HMAC_SHA256 };
struct ckpt_auth {
	uint32_t kind;
	char identity[sizeof(((struct ckpt_key *)0)->identity)];
	/* The parent's tag (ckpt_layer.link_tag); zeros without a parent. */
	uint8_t parent_tag[CKPT_TAG_BYTES];
	/* A merged checkpoint's: the tag of the one it replaced. */
	uint8_t merged_from_tag[CKPT_TAG_BYTES];
	uint8_t state_tag[CKPT_TAG_BYTES];
	uint8_t pages_tag[CKPT_TAG_BYTES];
	/* Decoded: the manifest's tag, and the SHA-256 of what it covers
	 * (everything before it), for ckpt_mac_manifest(). */
	uint8_t tag[CKPT_TAG_BYTES];
	uint8_t body_sha256[CKPT_SHA256_BYTES];
};

struct ckpt_manifest {
	char name[CKPT_NAME_MAX];
	char parent[CKPT_NAME_MAX]; /* "" for a full checkpoint */
	uint64_t parent_digest; /* the parent manifest's ckpt_bytes_digest() */
	uint64_t created_unix_ns;
	uint64_t pause_ns; /* how long the guest was paused for it */
	/* A full checkpoint that a merge made of a chain: the digest of the
	 * checkpoint it replaced, by which its children still name it.
	 * 0: taken as it is. */
	uint64_t merged_from;
	struct ckpt_machine machine;
	uint32_t nr_regions;
	struct ckpt_region regions[MEM_MAX_REGIONS];
	struct ckpt_file_ref files[CKPT_NR_FILES];
	struct ckpt_auth auth;
};

/*
 * A 64-bit digest of bytes: the migration's page hash (page_hash.h) of
 * each 4 KiB block (the last one padded with zeros), mixed with its
 * offset by page_digest_term() and summed. Any byte changed changes it.
 */
uint64_t ckpt_bytes_digest(const void *data, size_t len);

/* The manifest's bytes, with its tag under key when m->auth.kind says so;
 * 0 or -ENOMEM / -E2BIG / -EINVAL (no key). out is wbuf_free()d by the
 * caller either way. */
struct wbuf;
int ckpt_manifest_encode(const struct ckpt_manifest *m,
			 const struct ckpt_key *key, struct wbuf *out);

/*
 * Decodes and checks a manifest: magic, version, CRC, every length and
 * count against its limit, the regions against the RAM size. 0, or
 * -EBADMSG / -EINVAL with what is wrong in err. The tag of an
 * authenticated one is not checked here (no key): ckpt_chain_resolve()
 * does.
 */
int ckpt_manifest_decode(const void *data, size_t len, struct ckpt_manifest *m,
			 char *err, size_t err_len);

/* True when a and b describe the same machine; else why in err. */
bool ckpt_machine_same(const struct ckpt_machine *a,
		       const struct ckpt_machine *b, char *err, size_t err_len);

/* The pages file's size for these regions and held counts: per region
 * its bitmap (a u64 per 64 pages), then a u64 hash per held page, then
 * for an authenticated layer a MAC per held page. */
uint64_t ckpt_pages_file_bytes(const struct ckpt_manifest *m);

#endif
