#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Writes the fuzz targets' seed corpora (tests/fuzz/corpus/TARGET/) from
# real inputs: the streams, states and checkpoint layers that
# tests/fuzz/record.sh recorded in tests/fuzz/recorded/, the test images
# that the build makes, and control requests as the README writes them.
# Run after record.sh; the corpora are checked in, so this is run again
# only when a format changes. Regression inputs (regress-*) are kept.
#
#   make tests/fuzz/record-stream all $(TEST_IMAGES without the initramfs)
set -eu
cd "$(dirname "$0")/../.."
rec=tests/fuzz/recorded
corpus=tests/fuzz/corpus
for t in migrate_recv vm_state control loaders checkpoint; do
	mkdir -p "$corpus/$t"
	find "$corpus/$t" -type f ! -name 'regress-*' -delete
done

for s in "$rec"/*.stream; do
	cp "$s" "$corpus/migrate_recv/$(basename "$s" .stream)"
done
for s in "$rec"/*.state; do
	cp "$s" "$corpus/vm_state/$(basename "$s" .state)"
done
for layer in "$rec"/*.chain/*/; do
	name=$(basename "$(dirname "$layer")" .chain)-$(basename "$layer")
	tests/fuzz/record-stream --pack-layer "$layer" "$corpus/checkpoint/$name"
done

# The images the tests boot: tiny ELF, PVH and bzImage ones, and the
# bundled guest without its debug sections. Named without ".elf", which
# the repository ignores as a build output.
for img in tests/images/*.elf tests/images/bzcheck.bzImage; do
	cp "$img" "$corpus/loaders/$(basename "$img" .elf)"
done
strip -o "$corpus/loaders/kvmtrack-guest" guest/kvmtrack-guest.elf

c=$corpus/control
printf '%s\n' '{"execute": "query-commands"}' >"$c/query-commands"
printf '%s\n' '{"execute": "qmp_capabilities", "id": 1}' >"$c/qmp"
printf '%s\n' '{"execute": "alias-add", "arguments": {"gpa": "0x30000000", "src_gpa": "0x100000", "size": "64K"}, "id": "a"}' \
	'{"execute": "alias-remove", "arguments": {"gpa": "0x30000000"}}' \
	'{"execute": "alias-list"}' >"$c/alias"
printf '%s\n' '{"execute": "echo", "arguments": {"n": 18446744073709551615, "flag": true, "s": "\u00e9\ud83d\ude00", "a": [1.5e3, -2, null, {"k": []}]}}' \
	'' '{"execute": "nope"}' 'not json' >"$c/echo"
du -sh "$corpus"
