#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Records real inputs for the fuzz targets' seed corpora (tests/fuzz/corpus/)
# where /dev/kvm works (tests/vm/with-kvm): migration streams of a running
# guest, their STATE frames, and a checkpoint chain. Writes them under
# tests/fuzz/recorded/; tests/fuzz/seed.sh turns them into corpus files.
#
#   make tests/fuzz/record-stream all tests/images/alphabet.elf
#   tests/vm/with-kvm --back tests/fuzz/recorded -- tests/fuzz/record.sh
set -eu
cd "$(dirname "$0")/../.."
out=tests/fuzz/recorded
tmp=$(mktemp -d /tmp/kvmtrack-record.XXXXXX)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
rm -rf "$out"
mkdir -p "$out"

# record NAME MEM CPUS CMDLINE IMAGE: one migration through the recorder.
record() {
	name=$1 port=$((24000 + $$ % 1000)) rport=$((25000 + $$ % 1000))
	./kvmtrack run -m "$2" -c "$3" --serial none --control "$tmp/$name.sock" \
		--cmdline "$4" "$5" 2>"$tmp/$name.src" &
	pids="$pids $!"
	./kvmtrack run --incoming "tcp:127.0.0.1:$port" --serial none \
		2>"$tmp/$name.dst" &
	pids="$pids $!"
	tests/fuzz/record-stream "$rport" "$port" "$out/$name.stream" &
	pids="$pids $!"
	sleep 2
	./kvmtrack migrate --control "$tmp/$name.sock" --to "tcp:127.0.0.1:$rport"
	tests/fuzz/record-stream --state "$out/$name.stream" "$out/$name.state"
}

# checkpoint NAME MEM CMDLINE IMAGE [OPTION...]: a full and an incremental
# checkpoint, with the options (--mac-psk FILE) given to both.
checkpoint() {
	name=$1 mem=$2 cmdline=$3 image=$4
	shift 4
	./kvmtrack run -m "$mem" --serial none --control "$tmp/$name.sock" \
		--cmdline "$cmdline" "$image" 2>"$tmp/$name.ck" &
	pids="$pids $!"
	sleep 2
	./kvmtrack checkpoint --control "$tmp/$name.sock" \
		--to "$out/$name.chain" "$@"
	sleep 1
	./kvmtrack checkpoint --control "$tmp/$name.sock" \
		--to "$out/$name.chain" --incremental "$@"
}

record alphabet 2M 1 "" tests/images/alphabet.elf
record guest 16M 2 "workload=random wss=64K rate=2000 duration=0" \
	guest/kvmtrack-guest.elf
checkpoint alphabet-ck 2M "" tests/images/alphabet.elf
# Authenticated (manifest version 3), under the key fuzz_checkpoint.c
# derives from tests/fuzz/mac.psk.
chmod 600 tests/fuzz/mac.psk
checkpoint alphabet-mac 2M "" tests/images/alphabet.elf \
	--mac-psk tests/fuzz/mac.psk
ls -lR "$out"
