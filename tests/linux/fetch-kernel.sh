#!/bin/sh
# SPDX-License-Identifier: MIT
# Fetches Debian's own kernel for the Linux boot tests (tests/linux/) into a
# cache directory: the bzImage from the package that linux-image-amd64
# depends on, and the vmlinux ELF (with its PVH note) extracted from the
# bzImage's xz payload. Idempotent: does nothing when both files are there.
#
# Usage: tests/linux/fetch-kernel.sh [CACHE_DIR]   (default tests/linux-cache)
# Writes CACHE_DIR/vmlinuz, CACHE_DIR/vmlinux and CACHE_DIR/kernel.deb (the
# package itself, whose modules the test VM loads: tests/vm/); exits
# non-zero with a message on stderr when the package cannot be had (no
# network, no apt).

set -eu

cache=${1:-tests/linux-cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

fail() {
	echo "fetch-kernel: $*" >&2
	exit 1
}

if [ -s "$cache/vmlinuz" ] && [ -s "$cache/vmlinux" ] && [ -s "$cache/kernel.deb" ]; then
	exit 0
fi

for tool in apt-cache apt-get dpkg-deb xz od grep; do
	command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is not installed"
done

# linux-image-amd64 is a meta package: the kernel is its dependency.
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
if [ -z "$pkg" ]; then
	apt-get update -qq >/dev/null 2>&1 || true
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
fi
[ -n "$pkg" ] || fail "apt-cache knows no linux-image-amd64 (run apt-get update?)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
download() { (cd "$work" && apt-get download -qq "$pkg" >/dev/null 2>&1); }
# Stale package lists name a version the mirror no longer has: refresh once.
download || { apt-get update -qq >/dev/null 2>&1; download; } ||
	fail "cannot download $pkg (no network or no Debian mirror?)"
dpkg-deb -x "$work"/"$pkg"_*.deb "$work/root" ||
	fail "cannot unpack $pkg"
vmlinuz=$(ls "$work"/root/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || fail "$pkg has no /boot/vmlinuz-*"

# The bzImage's payload is an xz stream: find its magic (FD 37 7A 58 5A 00)
# and decompress from there; xz ignores what follows the stream.
offset=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n 1 | cut -d: -f1)
[ -n "$offset" ] || fail "$vmlinuz: no xz payload found"
tail -c +"$((offset + 1))" "$vmlinuz" | xz -dc -q >"$work/vmlinux" 2>/dev/null || true
[ "$(head -c 4 "$work/vmlinux" | od -A n -t x1 | tr -d ' ')" = 7f454c46 ] ||
	fail "$vmlinuz: the xz payload at offset $offset is not an ELF"

cp "$vmlinuz" "$cache/vmlinuz.tmp" && mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
cp "$work/vmlinux" "$cache/vmlinux.tmp" && mv "$cache/vmlinux.tmp" "$cache/vmlinux"
cp "$work"/"$pkg"_*.deb "$cache/kernel.deb.tmp" && mv "$cache/kernel.deb.tmp" "$cache/kernel.deb"
echo "$pkg" >"$cache/package"
