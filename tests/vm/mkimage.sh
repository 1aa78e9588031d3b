#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Builds the test VM's boot files (tests/vm/README.md): Debian's kernel and
# an initramfs that holds everything the suites run inside it, taken from
# this host's Debian packages:
#   - the kernel's modules for kvm_amd, 9p over virtio, veth, tbf and
#     kernel TLS (the migration channel's records);
#   - busybox-static for /init and the basic commands, with bash, coreutils,
#     mawk, sed, grep, tar, iproute2 and QEMU itself (the benchmark peer);
#   - every shared library those programs and the BINARIES given need.
# The root stays in the initramfs (RAM): nothing is executed from 9p, where
# the inner kernel once panicked (shared/KVM-HERE.md).
#
# Usage: tests/vm/mkimage.sh CACHE_DIR [BINARY...]
# Writes CACHE_DIR/vmlinuz and CACHE_DIR/initramfs.cpio, and
# CACHE_DIR/stamp, which names what they were built from; does nothing when
# the stamp matches. Exits non-zero with a message when something is missing.

set -eu

fail() {
	echo "mkimage: $*" >&2
	exit 1
}

[ $# -ge 1 ] || fail "usage: mkimage.sh CACHE_DIR [BINARY...]"
cache=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Programs run inside the VM, by the suites, the demo and the benchmarks.
PROGRAMS="bash dash sh env cat cp mv rm ln mkdir mktemp ls sleep kill timeout
tail head cut tr sort uniq wc tee date stat sha256sum md5sum seq printf
nproc dd truncate od mawk awk sed grep tar uptime ps
ip tc qemu-system-x86_64 busybox strace tmux"
# Data QEMU loads at start (its BIOS and option ROMs); for tmux, which the
# console test types into, the terminal descriptions and a UTF-8 locale
# (it refuses to start without one).
DATA="/usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu /lib/terminfo
/usr/lib/locale/C.utf8"
# Modules insmod'ed by /init, in order; busybox modprobe adds what each
# needs from modules.dep. Kernel TLS asks for its ciphers by algorithm name,
# which needs modules.alias and a modprobe the kernel can call: AES-GCM's
# are loaded here instead (GnuTLS picks AES-GCM where the CPU has AES-NI).
MODULES="virtio_pci 9pnet_virtio 9p kvm_amd veth sch_tbf tls gcm aesni_intel
ghash_clmulni_intel"

"$top/tests/linux/fetch-kernel.sh" "$top/tests/linux-cache" ||
	fail "cannot get Debian's kernel"
deb=$top/tests/linux-cache/kernel.deb

for tool in busybox cpio dpkg-deb ldd sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || fail "'$tool' is not installed"
done
# A program's file (not a shell builtin of the same name).
path_of() {
	for d in /usr/bin /usr/sbin /bin /sbin; do
		[ -x "$d/$1" ] && echo "$d/$1" && return 0
	done
	return 1
}
for p in $PROGRAMS; do
	path_of "$p" >/dev/null ||
		fail "'$p' is not installed (configure installs it)"
done

# The libraries each ELF needs, as ldd resolves them on this host.
libs_of() {
	ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// && $1 !~ /:$/ { print $1 }' | sort -u
}

inputs() {
	sha256sum "$0" "$here/init" "$deb"
	for p in $PROGRAMS; do
		sha256sum "$(readlink -f "$(path_of "$p")")"
	done
	# shellcheck disable=SC2046
	libs_of $(for p in $PROGRAMS; do path_of "$p"; done) "$@" |
		xargs -r sha256sum
}

stamp=$(inputs "$@" | sha256sum | cut -c1-32)
if [ -s "$cache/initramfs.cpio" ] && [ -s "$cache/vmlinuz" ] &&
	[ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi
echo "mkimage: building the test VM's initramfs in $cache" >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"
# Debian 12 has merged /usr: keep its top-level links.
for d in bin sbin lib lib64; do
	ln -s "usr/$d" "$root/$d"
done
mkdir -p "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib" "$root/usr/lib64" \
	"$root/etc" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" \
	"$root/run" "$root/var/run" "$root/host" "$root/xfer" "$root/work"

# add PATH: copies PATH as it is on this host (a link stays a link), and
# what a link points to.
add() {
	src=$1
	case "$src" in /bin/* | /sbin/* | /lib/* | /lib64/*) src=/usr$src ;; esac
	[ -e "$root$src" ] || [ -L "$root$src" ] && return 0
	mkdir -p "$root$(dirname "$src")" && cp -a "$src" "$root$src" ||
		fail "cannot copy $src"
	[ -L "$src" ] || return 0
	# Each link of a chain (/usr/bin/awk -> /etc/alternatives/awk -> mawk).
	target=$(readlink "$src")
	case "$target" in /*) ;; *) target=$(dirname "$src")/$target ;; esac
	add "$(realpath -sm "$target")"
}

for p in $PROGRAMS; do
	add "$(path_of "$p")"
done
for d in $DATA; do
	[ -e "$d" ] || fail "$d is missing (qemu-system-data, seabios, ipxe-qemu, ncurses-base, libc-bin)"
	for f in $(find "$d" \( -type f -o -type l \)); do
		add "$f"
	done
done
# shellcheck disable=SC2046
for lib in $(libs_of $(for p in $PROGRAMS; do path_of "$p"; done) "$@"); do
	add "$lib"
done
# busybox's applets for whatever the list above lacks (mount, modprobe...).
for applet in $(busybox --list); do
	[ -e "$root/usr/bin/$applet" ] || [ -e "$root/usr/sbin/$applet" ] ||
		ln -s busybox "$root/usr/bin/$applet"
done

# Kernel modules: the closure of MODULES in the package's modules.dep.
dpkg-deb -x "$deb" "$work/kernel" || fail "cannot unpack $deb"
release=$(ls "$work/kernel/lib/modules")
mdir=lib/modules/$release
busybox depmod -b "$work/kernel" "$release" || fail "depmod failed"
want=$(for m in $MODULES; do
	f=$(cd "$work/kernel/$mdir" && find kernel -name "$m.ko" -o \
		-name "$(echo "$m" | tr _ -).ko" | head -n 1)
	[ -n "$f" ] || fail "module $m is not in $deb"
	grep "^$f:" "$work/kernel/$mdir/modules.dep" | tr -d ':'
done | tr ' ' '\n' | sort -u)
mkdir -p "$root/usr/$mdir"
for f in $want; do
	mkdir -p "$root/usr/$mdir/$(dirname "$f")"
	cp "$work/kernel/$mdir/$f" "$root/usr/$mdir/$f"
done
cp "$work/kernel/$mdir/modules.dep" "$root/usr/$mdir/"
echo "$MODULES" >"$root/etc/vm-modules"

cp "$here/init" "$root/init"
chmod 755 "$root/init"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"

(cd "$root" && find . | cpio -o -H newc --quiet) >"$cache/initramfs.cpio.tmp" ||
	fail "cpio failed"
mv "$cache/initramfs.cpio.tmp" "$cache/initramfs.cpio"
cp "$work"/kernel/boot/vmlinuz-* "$cache/vmlinuz"
echo "$stamp" >"$cache/stamp"
echo "mkimage: $(du -h "$cache/initramfs.cpio" | cut -f1) initramfs, kernel $release" >&2
