#!/bin/sh
# SPDX-License-Identifier: MIT
#
# `make fuzz-coverage [CORPUS_ROOT=DIR]`: runs each coverage build of a fuzz
# target (tests/fuzz/cov-TARGET) once over DIR/TARGET and prints, per
# target, llvm-cov's line and region coverage of the files it is there to
# test. The figures of docs/security.md come from here.
#
# Usage: tests/fuzz/coverage.sh CORPUS_ROOT TARGET...
set -eu
cd "$(dirname "$0")/../.."
root=${1:?usage: coverage.sh CORPUS_ROOT TARGET...}
shift
out=tests/fuzz/work/coverage
mkdir -p "$out"

# The sources each target is for.
files_of() {
	case "$1" in
	migrate_recv) echo migrate/receive.c migrate/stream.c migrate/ram_recv.c \
		migrate/page_codec.c migrate/torn.c migrate/alias_state.c ;;
	vm_state) echo migrate/vm_state_parse.c migrate/vcpu_codec.c \
		migrate/platform_codec.c devices/uart_model.c \
		devices/testdev_save.c devices/pci_function.c ;;
	control) echo lib/json/parse.c lib/json/value.c lib/json/write.c \
		lib/json/utf8.c control/commands.c vmm/alias/commands.c ;;
	loaders) echo vmm/boot/loader.c vmm/boot/elf.c vmm/boot/bzimage.c \
		vmm/boot/linux.c vmm/boot/image_file.c vmm/boot/pvh.c ;;
	checkpoint) echo checkpoint/manifest.c checkpoint/pages.c \
		checkpoint/chain_load.c checkpoint/page_table.c checkpoint/chain.c ;;
	esac
}

for t in "$@"; do
	dir=$root/$t
	# a long run's directory (tests/fuzz/work/...) keeps it in corpus/
	[ -d "$dir/corpus" ] && dir=$dir/corpus
	rm -f "$out/$t".prof*
	LLVM_PROFILE_FILE="$out/$t.profraw" tests/fuzz/cov-"$t" -runs=0 \
		-close_fd_mask=3 "$dir" >/dev/null 2>&1
	llvm-profdata merge -sparse "$out/$t.profraw" -o "$out/$t.profdata"
	echo "== $t ($(ls "$dir" | wc -l) inputs in $dir)"
	# shellcheck disable=SC2046
	llvm-cov report tests/fuzz/cov-"$t" -instr-profile="$out/$t.profdata" \
		$(files_of "$t") |
		awk '/^[A-Za-z_\/]+\.c |^TOTAL / { print "   ", $1, "regions", $4, "lines", $10 }'
done
