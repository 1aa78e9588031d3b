#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Builds the Linux tests' initramfs from Debian's busybox-static: busybox
# and its applets, /init (init.sh), the static workload writer (built from
# writer.c, given as WRITER), the pvpanic modules of the
# kernel package (tests/linux/fetch-kernel.sh), so that a panic reaches
# kvmtrack, and a 1 MiB payload whose SHA-256 goes to OUT.sha256, so a test
# can check that the initrd reached the guest intact.
#
# Usage: tests/linux/initramfs/mkinitramfs.sh OUT KERNEL_DEB WRITER
# (OUT: a gzip'd newc cpio archive)
set -eu

out=$1
deb=$2
writer=$3
here=$(cd "$(dirname "$0")" && pwd)
busybox=/bin/busybox
[ -x "$busybox" ] && "$busybox" --list >/dev/null 2>&1 ||
	{ echo "mkinitramfs: no $busybox (install busybox-static)" >&2; exit 1; }
# The guest has no libc: a dynamic busybox would not start there.
if ldd "$busybox" >/dev/null 2>&1; then
	echo "mkinitramfs: $busybox is not static (install busybox-static)" >&2
	exit 1
fi
command -v cpio >/dev/null 2>&1 ||
	{ echo "mkinitramfs: no cpio (install cpio)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
# The modules must be the booted kernel's own: insmod checks vermagic.
mkdir -p "$root/lib/modules"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$root" --wildcards \
	'./lib/modules/*/kernel/drivers/misc/pvpanic/*' ||
	{ echo "mkinitramfs: no pvpanic modules in $deb" >&2; exit 1; }
find "$root/lib/modules" -name 'pvpanic*.ko' -exec mv {} "$root/lib/modules/" \;
rm -rf "$root"/lib/modules/[0-9]*
[ -f "$root/lib/modules/pvpanic-pci.ko" ] ||
	{ echo "mkinitramfs: no pvpanic-pci.ko in $deb" >&2; exit 1; }
cp "$writer" "$root/bin/writer"
cp "$here/init.sh" "$root/init"
chmod 755 "$root/init"
# Not a page multiple, and not all one byte, so a shifted or truncated
# copy changes the hash.
seq 1 200000 | head -c 1048576 >"$root/payload"
sha256sum "$root/payload" | cut -d' ' -f1 >"$out.sha256.tmp"
# The same bytes from every build of the same inputs: no build time in
# the archive. The corrupted-initramfs test flips bytes at a fixed offset,
# and what the kernel makes of them must not change with the clone's date.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | LC_ALL=C sort |
	cpio -o -H newc --quiet --reproducible | gzip -9n) >"$out.tmp"
mv "$out.sha256.tmp" "$out.sha256"
mv "$out.tmp" "$out"
