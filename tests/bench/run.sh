#!/bin/sh
# SPDX-License-Identifier: MIT
#
# `make bench`: runs every benchmark, writes one JSON file per benchmark
# and a combined Markdown table to bench-results/ (summary.md), and prints
# the table. Benchmarks report numbers; they do not pass or fail, but a
# benchmark that could not run makes this script exit 1.
#
# Environment: BENCH_OUT (bench-results), BOOT_RUNS (5), PAGERATE_RUNS (3),
#   QEMU (qemu-system-x86_64), DIRTYLOG_MEM (1G), DIRTYLOG_ITERATIONS (5),
#   MIGRATE_RUNS (5), CONVERGE_RUNS (3), MIGRATE_SCENARIOS (abcdiln; i, l, n: Linux),
#   MIGRATE_ARGS (none: extra words for every `kvmtrack migrate`, e.g.
#   "--verify sent"; they are named in the migration table), TLS_RUNS (3:
#   rounds of the TLS benchmark; its credentials come from
#   `make tests/tls/creds/ca-cert.pem`).
# The machines are shared and noisy: compare numbers taken in one run.

set -u
cd "$(dirname "$0")/../.." || exit 1

out=${BENCH_OUT:-bench-results}
boot_runs=${BOOT_RUNS:-5}
pagerate_runs=${PAGERATE_RUNS:-3}
dirtylog_mem=${DIRTYLOG_MEM:-1G}
dirtylog_iterations=${DIRTYLOG_ITERATIONS:-5}
migrate_runs=${MIGRATE_RUNS:-5}
converge_runs=${CONVERGE_RUNS:-3}
migrate_scenarios=${MIGRATE_SCENARIOS:-abcdiln}
migrate_args=${MIGRATE_ARGS:-}
tls_runs=${TLS_RUNS:-3}
qemu=${QEMU:-qemu-system-x86_64}
status=0

mkdir -p "$out/logs" || exit 1

# Benchmark private copies: others may rebuild ./kvmtrack or the guest
# while this runs (a half-written binary fails with EACCES/ETXTBSY), and
# both VMMs must boot the very same guest file.
bin=$(mktemp -d "${TMPDIR:-/tmp}/kvmtrack-bench.XXXXXX") || exit 1
trap 'rm -rf "$bin"' EXIT
trap 'exit 130' INT TERM
cp kvmtrack "$bin/kvmtrack" && cp guest/kvmtrack-guest.elf "$bin/" || exit 1
kvmtrack=$bin/kvmtrack
guest=$bin/kvmtrack-guest.elf
rows="$out/rows.md"
: >"$rows"

json_str() {
	printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'
}

# --- the machine and the tree ----------------------------------------------
date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cpus=$(nproc)
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
kernel=$(uname -r)
guest_sha=$(sha256sum "$guest" | cut -c1-16)
# The test VM holds a copy of the tree without .git: make passes the commit.
commit=${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
# Which KVM gave these figures: users' hardware has VMX or SVM with nested
# paging; the test VM's is kvm_amd on an emulated CPU (tests/vm/), the old
# build machines' the shadow-paging PVM.
kvm="unknown"
for m in kvm_amd kvm_intel kvm_pvm; do
	[ -d "/sys/module/$m" ] || continue
	kvm=$m
	[ -r "/sys/module/$m/parameters/npt" ] && kvm="$m npt=$(cat "/sys/module/$m/parameters/npt")"
	[ -r "/sys/module/$m/parameters/ept" ] && kvm="$m ept=$(cat "/sys/module/$m/parameters/ept")"
done
[ -n "${KVMTRACK_TEST_VM:-}" ] && kvm="$kvm, inside the test VM (QEMU TCG, tests/vm/)"
qemu_version=$("$qemu" --version 2>/dev/null | awk 'NR == 1 { print $4 }')
qemu_version=${qemu_version:-missing}

cat >"$out/machine.json" <<EOF
{
  "date": "$date_utc",
  "git_commit": "$(json_str "$commit")",
  "nproc": $cpus,
  "cpu_model": "$(json_str "$cpu_model")",
  "kernel": "$(json_str "$kernel")",
  "qemu_version": "$(json_str "$qemu_version")",
  "kvm": "$(json_str "$kvm")",
  "guest_sha256_prefix": "$guest_sha"
}
EOF

# --- 1. boot to the first serial line, kvmtrack beside QEMU --------------
echo "bench: boot to first serial line, $boot_runs runs per VMM (QEMU $qemu_version)" >&2
if ! tests/bench/bench-boot --runs "$boot_runs" --qemu "$qemu" \
	--kvmtrack "$kvmtrack" --guest "$guest" --json "$out/boot.json" >>"$rows"; then
	echo "bench: boot benchmark failed" >&2
	status=1
fi

# --- 1b. Debian's kernel to its first userspace line, kvmtrack beside QEMU --
# (the Linux tests' kernel and initramfs: make check fetches and builds them)
if [ -s tests/linux-cache/vmlinuz ] && [ -s tests/linux/initramfs.cpio.gz ]; then
	cp tests/linux-cache/vmlinuz tests/linux/initramfs.cpio.gz "$bin/" || exit 1
	echo "bench: Linux boot to first userspace line, $boot_runs runs per VMM" >&2
	if ! tests/bench/bench-boot --runs "$boot_runs" --qemu "$qemu" --timeout 240 \
		--kvmtrack "$kvmtrack" --linux "$bin/vmlinuz" \
		--initrd "$bin/initramfs.cpio.gz" --json "$out/boot-linux.json" >>"$rows"; then
		echo "bench: Linux boot benchmark failed" >&2
		status=1
	fi
else
	echo "bench: no Linux kernel or initramfs : Linux boot skipped" >&2
	status=1
fi

# --- 2. guest page-write rate at CPL3, no tracking -------------------------
for wl in sweep random; do
	echo "bench: page-write rate, workload=$wl, $pagerate_runs runs" >&2
	if ! RUNS=$pagerate_runs KVMTRACK=$kvmtrack GUEST=$guest tests/bench/bench-pagerate.sh \
		"$wl" "$out/pagerate-$wl.json" "$out/logs" >>"$rows"; then
		echo "bench: page-write rate ($wl) failed" >&2
		status=1
	fi
done

# --- 3. dirty-log phases and harvest cost, beside the bare ioctls ----------
for mode in bitmap manual ring; do
	echo "bench: dirty log, $dirtylog_mem, mode $mode, $dirtylog_iterations iterations, tracked and bare" >&2
	if ! MEM=$dirtylog_mem ITERATIONS=$dirtylog_iterations KVMTRACK=$kvmtrack GUEST=$guest \
		tests/bench/bench-dirtylog.sh "$mode" "$out" "$out/logs" >>"$rows"; then
		echo "bench: dirty log ($mode) failed" >&2
		status=1
	fi
done

# --- 4. live migration, kvmtrack beside QEMU, then across a 1 Gbit/s link --
migrate_load0=$(uptime | sed 's/.*load average: //')
echo "bench: live migration, kvmtrack beside QEMU, $migrate_runs runs per VMM ((c): $converge_runs), load $migrate_load0" >&2
if ! tests/bench/bench-migrate --runs "$migrate_runs" --converge-runs "$converge_runs" \
	--scenarios "$migrate_scenarios" ${migrate_args:+--kvmtrack-migrate-args "$migrate_args"} \
	--kvmtrack "$kvmtrack" --qemu "$qemu" --guest "$guest" --out "$out" \
	--linux-kernel "$bin/vmlinuz" --linux-initrd "$bin/initramfs.cpio.gz" \
	--md "$out/migrate.md" >>"$rows"; then
	echo "bench: live migration failed" >&2
	status=1
fi
echo "bench: live migration between two network namespaces, 1 Gbit/s" >&2
if ! KVMTRACK=$kvmtrack GUEST=$guest tests/bench/bench-netns.sh \
	"$out/migrate-netns.json" "$out/logs" >>"$rows"; then
	echo "bench: live migration across namespaces failed" >&2
	status=1
fi
migrate_load1=$(uptime | sed 's/.*load average: //')

# --- 4b. what TLS costs a migration, kvmtrack beside QEMU -------------------
echo "bench: migration over TLS, (d) plain and with TLS, kvmtrack beside QEMU, $tls_runs rounds" >&2
if [ ! -s tests/tls/creds/ca-cert.pem ]; then
	echo "bench: no tests/tls/creds (make tests/tls/creds/ca-cert.pem): TLS skipped" >&2
	status=1
elif ! tests/bench/bench-migrate --tls-matrix --runs "$tls_runs" \
	--tls-dir tests/tls/creds --kvmtrack "$kvmtrack" --qemu "$qemu" \
	--guest "$guest" --out "$out" --md "$out/migrate-tls.md" >>"$rows"; then
	echo "bench: migration over TLS failed" >&2
	status=1
fi

# --- checkpoints: kvmtrack --every 1s beside QEMU's migrate to a file -------
echo "bench: checkpoints, kvmtrack checkpoint --every 1s --keep 5 beside QEMU migrate exec:cat" >&2
if ! KVMTRACK=$kvmtrack GUEST=$guest QEMU=$qemu tests/bench/bench-checkpoint.sh \
	"$out/checkpoint.json" "$out/logs" >>"$rows"; then
	echo "bench: checkpoints failed" >&2
	status=1
fi

# --- 5. dirty-rate accuracy: kvmtrack dirtyrate vs QEMU calc-dirty-rate -------
# Against the guest's own count, 3 modes each, sweep and hotcold; the full
# table (with the per-mode winner) is dirtyrate.md. DIRTYRATE_RUNS (5).
echo "bench: dirty-rate accuracy, kvmtrack beside QEMU, ${DIRTYRATE_RUNS:-5} windows per mode" >&2
if ! tests/bench/bench-dirtyrate --runs "${DIRTYRATE_RUNS:-5}" --kvmtrack "$kvmtrack" \
	--qemu "$qemu" --guest "$guest" --log-dir "$out/logs" \
	--json "$out/dirtyrate.json" --table "$out/dirtyrate.md" >>"$rows"; then
	echo "bench: dirty-rate accuracy failed" >&2
	status=1
fi

# --- read-only aliases: add/remove cost, read bandwidth --------------------
echo "bench: alias add/remove (100 runs) and guest read bandwidth alias vs original" >&2
if ! tests/bench/bench-alias --runs 100 --kvmtrack "$kvmtrack" --guest "$guest" \
	--json "$out/alias.json" >>"$rows"; then
	echo "bench: alias benchmark failed" >&2
	status=1
fi

# --- the table ---------------------------------------------------------------
{
	echo "# kvmtrack benchmarks"
	echo
	echo "- date: $date_utc"
	echo "- commit: $commit"
	echo "- machine: $cpus CPUs, $cpu_model, Linux $kernel"
	echo "- KVM: $kvm"
	echo "- QEMU: $qemu_version"
	echo "- guest: guest/kvmtrack-guest.elf, $(wc -c <"$guest") bytes, sha256 $guest_sha"
	echo
	echo "| benchmark | subject | median | min | max | unit | note |"
	echo "|---|---|---:|---:|---:|---|---|"
	cat "$rows"
	echo
	echo "Boot: fork() of the VMM to the arrival of the guest's banner line"
	echo "(\"kvmtrack-guest ...\", through its newline) on its stdout pipe; both VMMs boot a copy of guest/kvmtrack-guest.elf"
	echo "with -m 256M; runs alternate between the VMMs. Page writes: one page"
	echo "write stores one 16-byte stamp into a 4 KiB page, so GB/s is"
	echo "pages/s x 4096 (page-equivalent), not bytes stored. \"whole run\" is the"
	echo "guest's own rate over its workload (it includes the first touch of"
	echo "every page, which the host allocates then); \"steady\" runs from the"
	echo "first progress line after every page was touched to the end (a run"
	echo "still faulting pages in then has no steady sample). JSON per benchmark"
	echo "and guest logs are beside this file."
	echo
	echo "Dirty log: \`kvmtrack bench dirtylog\` boots the bundled guest (sync=1) with a"
	echo "working set of $dirtylog_mem and one writing vCPU. Populate writes every page once"
	echo "with logging off; then each iteration the guest writes every page once (one pass)"
	echo "and kvmtrack harvests. \"harvest\" = get-log + clear-log + the ring reaper's CPU time"
	echo "during the pass (bitmap: GET, which clears; manual: GET, then CLEAR of every page;"
	echo "ring: harvest + KVM_RESET_DIRTY_RINGS, mostly by the reaper every 10 ms). \"bare"
	echo "ioctls\" is a second run, right after, issuing only the KVM ioctls on the same slots"
	echo "and pattern (--bare). dirtylog-MODE.json and dirtylog-MODE-bare.json hold every phase"
	echo "and iteration."
	echo
	echo "## Live migration: kvmtrack beside QEMU $qemu_version"
	echo
	echo "Load average (1, 5, 15 min; 2 CPUs, shared): $migrate_load0 before, $migrate_load1 after."
	echo "Medians of $migrate_runs runs per VMM ((c): $converge_runs), alternating K Q / Q K; one source and"
	echo "one destination process per run on this machine, over loopback TCP; downtime limit 300 ms"
	echo "for both; no bandwidth cap (QEMU: max-bandwidth 100 GiB/s) except in (c): 64 MiB/s,"
	echo "kvmtrack --auto-converge, QEMU capability auto-converge. JSON: migrate-*.json."
	echo
	[ -s "$out/migrate.md" ] && cat "$out/migrate.md"
	echo
	echo "Guests: (a) workload=idle; (b) workload=random wss=256M rate=100000; (c) workload=random"
	echo "wss=64M rate=49152 (192 MiB/s, 3x the cap); (d) as (b) with fill=page: each write fills"
	echo "the whole page with pseudo-random non-zero words, where (b) stores 16 bytes in a page"
	echo "of zeros, so (d)'s pages can be neither elided nor compressed; all with heartbeat=1 and"
	echo "1 GiB. Warm-up before"
	echo "migrating: at least 2 s, then until the guest writes at 90% of its rate over 0.6 s (its"
	echo "working set is resident; at most 10 s). \"Downtime observed\" is what a user sees: the"
	echo "harness reads both VMMs' stdout (the guest's serial console) in one poll() loop at"
	echo "SCHED_FIFO and stamps each line on arrival (CLOCK_MONOTONIC); it is the gap between the"
	echo "last line from the source and the first from the destination (the tail of a line split by"
	echo "the switch-over counts). With a line every 1 ms of guest time it reads up to ~1 ms high."
	echo "Guest writes per second come from its progress lines (every 100 ms): \"before\" over the"
	echo "second before the migration, \"during\" from its start to the switch-over. QEMU's \"on the"
	echo "wire\" is query-migrate ram.transferred, its passes dirty-sync-count. netns: one kvmtrack"
	echo "migration between two network namespaces over a veth pair shaped with tbf (1 Gbit/s,"
	echo "burst 256k, latency 10 ms), 512M guest, wss=128M at 10000 pages/s; migrate-netns.json."
	echo
	echo "## Migration over TLS: kvmtrack beside QEMU $qemu_version"
	echo
	echo "Guest (d), migrated by each variant in turn, $tls_runs rounds (the order reversed every"
	echo "other round), medians. Throughput: bytes on the wire (10^6) over the total time, per run"
	echo "(kvmtrack transferred_bytes, QEMU ram.transferred: payload, not TLS records). kvmtrack's"
	echo "\"records by GnuTLS\" runs with KVMTRACK_X_TLS_USERSPACE=1 in both \`kvmtrack run\`s;"
	echo "QEMU 7.2 always keeps its records in GnuTLS. Credentials: tests/tls/mkcreds.sh (ECDSA"
	echo "P-256), the same directories for both VMMs. A run that has not switched over after 20 s"
	echo "is cancelled and counts, in throughput only, with what it moved by then; total time and"
	echo "bytes are medians of the completed runs. JSON: migrate-tls.json."
	echo
	[ -s "$out/migrate-tls.md" ] && cat "$out/migrate-tls.md"
} >"$out/summary.md"
rm -f "$rows"
cat "$out/summary.md"
exit $status
