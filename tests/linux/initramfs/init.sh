#!/bin/sh
# SPDX-License-Identifier: MIT
#
# /init of the Linux tests' initramfs (tests/linux/mkinitramfs.sh): busybox
# userspace that reports, one "kt-init:" line each, what the kernel found,
# so that the tests can compare it with what kvmtrack was told to give.
# Then it does what the command line's kt.then= says: "writer" runs the
# migration tests' workload (writer.c, sized by kt.mib=, kt.rate=,
# kt.every=, kt.writers= and kt.hz=, its heartbeats a second), "shell" gives a shell on the console, "panic" crashes the
# kernel, anything else (and none) ends the VM with `reboot -f`.
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

echo "kt-init: userspace"
# pvpanic-pci needs the core module first; Debian builds both as modules.
insmod /lib/modules/pvpanic.ko && insmod /lib/modules/pvpanic-pci.ko &&
	[ -e /sys/bus/pci/drivers/pvpanic-pci/0000:00:01.0 ] &&
	echo "kt-init: pvpanic bound"
echo "kt-init: cpus online $(cat /sys/devices/system/cpu/online)"
# The RAM the firmware map (kvmtrack's E820 table) gave, summed, as an
# exact figure to compare with -m; MemTotal is what is left after the
# kernel took its share, for people reading the log.
ram=0
for entry in /sys/firmware/memmap/*; do
	[ "$(cat "$entry/type")" = "System RAM" ] || continue
	ram=$((ram + $(cat "$entry/end") - $(cat "$entry/start") + 1))
done
echo "kt-init: ram $((ram / 1024)) kB, MemTotal $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
echo "kt-init: cmdline $(cat /proc/cmdline)"
# The payload's hash was taken when the archive was built: equal hashes
# mean the initrd reached the kernel byte for byte.
echo "kt-init: payload $(sha256sum /payload | cut -d' ' -f1)"

then= mib=64 rate=0 every=10 writers=1 hz=10
for word in $(cat /proc/cmdline); do
	case "$word" in
	kt.then=*) then=${word#kt.then=} ;;
	kt.mib=*) mib=${word#kt.mib=} ;;
	kt.rate=*) rate=${word#kt.rate=} ;;
	kt.every=*) every=${word#kt.every=} ;;
	kt.writers=*) writers=${word#kt.writers=} ;;
	kt.hz=*) hz=${word#kt.hz=} ;;
	esac
done

case "$then" in
writer)
	# The migration tests' workload (writer.c); it runs until the VM
	# ends, and a failed check of its buffer ends the VM with a panic.
	echo "kt-init: $writers writer(s) of $mib MiB, $rate pages/s, check every $every, $hz beats/s"
	export WRITER_HZ=$hz
	# kt.writers=N keeps N vCPUs busy: writers 2..N in the background.
	i=2
	while [ "$i" -le "$writers" ]; do
		/bin/writer "$mib" "$rate" "$every" "w$i" &
		i=$((i + 1))
	done
	/bin/writer "$mib" "$rate" "$every"
	echo "kt-init: writer ended with status $?"
	echo c >/proc/sysrq-trigger
	;;
shell)
	echo "kt-init: shell"
	# A controlling terminal, so that ^C and job control work as on a
	# console login.
	exec setsid cttyhack sh
	;;
panic)
	echo "kt-init: panic"
	echo c >/proc/sysrq-trigger
	;;
esac
echo "kt-init: reboot"
reboot -f
