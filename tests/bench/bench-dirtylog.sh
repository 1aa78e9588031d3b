#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Dirty-log harvest cost beside the bare ioctl cost, one mode: runs
#   kvmtrack bench dirtylog --mode MODE --json          (the dirty module)
#   kvmtrack bench dirtylog --mode MODE --bare --json   (only the ioctls)
# one after the other on the same working set, and prints Markdown table
# rows: harvest per pass (get-log + clear-log + ring reaper), both runs and
# their ratio (the goal: the dirty module within 1.2x of the bare ioctls),
# harvest cost per GiB dirtied, pages/s the guest dirties while tracked,
# the other phases, and the correctness check (dirty pages = pages the
# guest wrote + metadata).
#
# Usage: bench-dirtylog.sh MODE OUT_DIR LOG_DIR
#   writes OUT_DIR/dirtylog-MODE.json and OUT_DIR/dirtylog-MODE-bare.json
# Environment: KVMTRACK (./kvmtrack), GUEST (guest/kvmtrack-guest.elf),
#   MEM (1G: the working set; guest RAM is MEM + MEM/128 + 16M),
#   ITERATIONS (5), VCPUS (1), WRITE_PERCENT (100).
# Exits 1 if a run failed or its dirty log was wrong.

set -u

mode=${1:?mode}
outdir=${2:?output directory}
logdir=${3:?log directory}
kvmtrack=${KVMTRACK:-./kvmtrack}
guest=${GUEST:-guest/kvmtrack-guest.elf}
mem=${MEM:-1G}
iterations=${ITERATIONS:-5}
vcpus=${VCPUS:-1}
percent=${WRITE_PERCENT:-100}

mkdir -p "$outdir" "$logdir" || exit 1
failed=0

# One number from the one-line JSON: jnum FILE OBJECT KEY gives the
# member KEY of the first object named OBJECT ("" for a top-level KEY).
jnum() {
	if [ -n "$2" ]; then
		grep -o "\"$2\":{[^}]*}" "$1" | head -n 1
	else
		cat "$1"
	fi | sed -n "s/.*\"$3\":\(-\{0,1\}[0-9.e+-]*\).*/\1/p" | head -n 1
}

for kind in tracked bare; do
	suffix=""
	flag=""
	if [ "$kind" = bare ]; then
		suffix="-bare"
		flag="--bare"
	fi
	json="$outdir/dirtylog-$mode$suffix.json"
	log="$logdir/dirtylog-$mode$suffix.log"
	# shellcheck disable=SC2086 # $flag is one word or none
	timeout 600 "$kvmtrack" bench dirtylog --image "$guest" --mem "$mem" \
		--vcpus "$vcpus" --mode "$mode" --iterations "$iterations" \
		--write-percent "$percent" --serial "file:$logdir/dirtylog-$mode$suffix.serial" \
		$flag --json >"$json" 2>"$log"
	rc=$?
	if [ $rc -ne 0 ] || ! grep -q '"correct":true' "$json"; then
		echo "bench-dirtylog: $mode $kind failed (exit $rc), see $log and $json" >&2
		failed=1
	fi
done

t="$outdir/dirtylog-$mode.json"
b="$outdir/dirtylog-$mode-bare.json"
[ -s "$t" ] && [ -s "$b" ] || exit 1

title="dirty log, $mem, $mode"
awk -v title="$title" -v mode="$mode" \
	-v th="$(jnum "$t" harvest_ms median)" -v thmin="$(jnum "$t" harvest_ms min)" \
	-v thmax="$(jnum "$t" harvest_ms max)" \
	-v bh="$(jnum "$b" harvest_ms median)" -v bhmin="$(jnum "$b" harvest_ms min)" \
	-v bhmax="$(jnum "$b" harvest_ms max)" \
	-v tget="$(jnum "$t" get_ms median)" -v tclr="$(jnum "$t" clear_ms median)" \
	-v trp="$(jnum "$t" reaper_ms median)" \
	-v bget="$(jnum "$b" get_ms median)" -v bclr="$(jnum "$b" clear_ms median)" \
	-v brp="$(jnum "$b" reaper_ms median)" \
	-v tg="$(jnum "$t" harvest_ms_per_gib median)" -v tgmin="$(jnum "$t" harvest_ms_per_gib min)" \
	-v tgmax="$(jnum "$t" harvest_ms_per_gib max)" \
	-v bg="$(jnum "$b" harvest_ms_per_gib median)" \
	-v pps="$(jnum "$t" pages_per_s median)" -v ppsmin="$(jnum "$t" pages_per_s min)" \
	-v ppsmax="$(jnum "$t" pages_per_s max)" \
	-v dirty="$(jnum "$t" dirty_ms median)" -v dmin="$(jnum "$t" dirty_ms min)" \
	-v dmax="$(jnum "$t" dirty_ms max)" \
	-v pop="$(jnum "$t" phases_ms populate)" -v en="$(jnum "$t" phases_ms enable_logging)" \
	-v dis="$(jnum "$t" phases_ms disable_logging)" \
	-v iters="$(jnum "$t" "" iterations)" \
	-v written="$(jnum "$t" "" pages_written)" -v dp="$(jnum "$t" "" dirty_pages)" \
	-v meta="$(jnum "$t" "" metadata_pages)" \
	-v bwritten="$(jnum "$b" "" pages_written)" -v bdp="$(jnum "$b" "" dirty_pages)" \
	-v tok="$(grep -c '"correct":true' "$t")" -v bok="$(grep -c '"correct":true' "$b")" '
	BEGIN {
		ratio = bh > 0 ? th / bh : 0
		printf "| %s | kvmtrack | %.3f | %.3f | %.3f | ms per pass | harvest: get %.3f + clear %.3f + reaper %.3f; %d iterations |\n", \
			title, th, thmin, thmax, tget, tclr, trp, iters
		printf "| %s | bare ioctls | %.3f | %.3f | %.3f | ms per pass | get %.3f + clear %.3f + reaper %.3f |\n", \
			title, bh, bhmin, bhmax, bget, bclr, brp
		printf "| %s | kvmtrack / bare | %.2fx | | | ratio of medians | goal: within 1.2x (%s) |\n", \
			title, ratio, ratio <= 1.2 ? "met" : "not met"
		printf "| %s | kvmtrack | %.3f | %.3f | %.3f | ms per GiB dirtied | harvest cost; bare %.3f |\n", \
			title, tg, tgmin, tgmax, bg
		printf "| %s | kvmtrack | %.3f | %.3f | %.3f | M pages/s | guest dirtying while tracked (%.2f GB/s page-equiv.) |\n", \
			title, pps / 1e6, ppsmin / 1e6, ppsmax / 1e6, pps * 4096 / 1e9
		printf "| %s | kvmtrack | %.1f | %.1f | %.1f | ms per pass | dirty memory (host: CONTINUE to last REPORT) |\n", \
			title, dirty, dmin, dmax
		printf "| %s | kvmtrack | %.1f / %.3f / %.3f | | | ms | populate (logging off) / enable / disable logging |\n", \
			title, pop, en, dis
		printf "| %s | kvmtrack | %s | | | dirty pages | %s written + %s metadata (iteration 1); bare: %s of %s; %s |\n", \
			title, dp, written, meta, bdp, bwritten, \
			tok && bok ? "log = pages written" : "WRONG"
	}'
exit $failed
