/* SPDX-License-Identifier: MIT */
/*
 * The kvmtrack migration protocol, version 3. A stream of frames, each a
 * 20-byte little-endian header and a payload:
 *
 *   u32 magic "KTMG"  u16 version  u16 type  u32 payload_len  u32 seq
 *   u32 crc32c(header bytes 0..15, then payload)
 *
 * seq counts frames in each direction from 0, so a lost or repeated frame
 * is an error. Source -> destination:
 *   HELLO      u32 flags, str sender
 *   CONFIG     u64 mem_bytes, u32 nr_cpus, str cmdline, block fdt, then
 *              the read-only windows (migrate/alias_state.h)
 *   RAM        u32 region, u32 npages, npages * (u64 page, u64 hash),
 *              then the pages' 4096 bytes each, in the same order. The
 *              CRC ends before the page bytes: each page is checked
 *              against its page_hash() (migrate/page_hash.h), which the
 *              sender computes anyway for the digest, and which catches
 *              any one changed word for certain, as a CRC would.
 *   RAM_LIVE   a RAM frame whose pages were read while the guest ran,
 *              straight from its memory: a page the guest wrote between
 *              its hash and the socket's copy arrives torn, not matching
 *              its hash. It was written after its dirty bit was cleared,
 *              so it comes again in the next pass (or with the last
 *              pages); the destination holds the source to that
 *              (migrate/torn.h), and a page that does not come again was
 *              corrupted in transit.
 *   SPARSE     u32 region, u32 npages, then per page: u64 page and the
 *              page in the sparse encoding (migrate/page_codec.h); a zero
 *              page is an empty encoding
 *   PASS       u32 pass, u64 pages_sent
 *   STATE      the machine state (migrate/vm_state.h)
 *   DIGEST     u64 digest, u64 nonzero_pages
 * Destination -> source:
 *   READY      (empty) configuration accepted
 *   SYNCED     u32 pass: every frame up to that PASS is applied, so
 *              the source times a pass from end to end, not by how
 *              fast the socket swallows it
 *   DONE       (empty) memory verified, guest resumed here
 *   ERROR      i32 -errno, str message: the peer gives up; both sides
 *              discard what the migration built. The source may send it too.
 * Every length and count is checked against these limits before use.
 */
#ifndef KVMTRACK_PROTO_H
#define KVMTRACK_PROTO_H

#define MIG_MAGIC 0x474d544bu /* "KTMG" */
#define MIG_VERSION 3
#define MIG_HEADER_BYTES 20
#define MIG_MAX_PAYLOAD_BYTES (4u << 20)
/* Pages per RAM frame the source sends: 256 (1 MiB) took a median 3731
 * ms for scenario (d) at 30000 pages/s against 4456 with 64, 6 runs each
 * interleaved in the test VM: fewer syscalls and less TCP work a page
 * (docs/page-costs.md). The receiver takes any count up to the next. */
#define MIG_RAM_FRAME_PAGES 256
#define MIG_RAM_MAX_PAGES 1024 /* most a receiver accepts in one frame */
#define MIG_SPARSE_FRAME_BYTES (256u << 10) /* a SPARSE frame's most */

enum mig_frame {
	MIG_HELLO = 1,
	MIG_CONFIG = 2,
	MIG_RAM = 4,
	MIG_SPARSE = 5,
	MIG_RAM_LIVE = 9,
	MIG_PASS = 6,
	MIG_STATE = 7,
	MIG_DIGEST = 8,
	MIG_READY = 64,
	MIG_DONE = 65,
	MIG_ERROR = 66,
	MIG_SYNCED = 67,
};

const char *mig_frame_name(unsigned int type);

#endif
