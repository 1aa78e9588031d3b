# SPDX-License-Identifier: MIT
# kvmtrack: one non-recursive Makefile. `make V=1` shows the commands.

ifeq ($(V),1)
Q :=
else
Q := @
endif

all:

# configure writes config.mak; run it when it is missing.
config.mak config-host.h: configure
	$(Q)./configure

-include config.mak

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wformat=2 -Wundef -Wvla -Wno-unused-parameter
CFLAGS ?= -O2 -g
KT_CFLAGS := $(CFLAGS) -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -I. -MMD -MP \
	$(CAPSTONE_CFLAGS) $(GNUTLS_CFLAGS) -pthread
KT_LIBS := $(FDT_LIBS) $(CAPSTONE_LIBS) $(GNUTLS_LIBS) -pthread -lm

# --- kvmtrack --------------------------------------------------------------
# One folder per layer, from the bottom up (docs/architecture.md); every .c
# in them goes into the library except main, so the tests link what the
# program links.
LAYERS := lib lib/json kvm control vmm/mem vmm/dirty vmm/alias vmm/boot vmm \
	devices dirtyrate migrate checkpoint app app/bench
MAIN_SRC := $(firstword $(wildcard app/main.c app/main.c))
MAIN_OBJ := $(MAIN_SRC:.c=.o)
LIB_SRCS := $(filter-out $(MAIN_SRC),$(foreach d,$(LAYERS),$(wildcard $(d)/*.c)))
LIB_OBJS := $(LIB_SRCS:.c=.o)
LIB := libkvmtrack.a

all: kvmtrack guest/kvmtrack-guest.elf

$(LIB_OBJS) $(MAIN_OBJ): config-host.h

%.o: %.c
	@echo "  CC      $@"
	$(Q)$(CC) $(KT_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

kvmtrack: $(MAIN_OBJ) $(LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(KT_CFLAGS) -o $@ $^ $(KT_LIBS)

# --- the bundled guest -----------------------------------------------------
# Freestanding, no SSE (its CPL0 code does not enable it), linked at 1 MiB.
GUEST_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -nostdlib \
	-fno-stack-protector -fno-builtin -mno-red-zone -mgeneral-regs-only \
	-mcmodel=small -fno-asynchronous-unwind-tables -Wall -Wextra -Wshadow \
	-Wno-unused-parameter -I. -MMD -MP
GUEST_SRCS := $(wildcard guest/*.c guest/*.S guest/lib/*.c guest/lib/*.S)
GUEST_OBJS := $(patsubst %.c,%.guest.o,$(patsubst %.S,%.guest.o,$(GUEST_SRCS)))

%.guest.o: %.c
	@echo "  GCC     $@"
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

%.guest.o: %.S
	@echo "  AS      $@"
	$(Q)$(CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

guest/kvmtrack-guest.elf: $(GUEST_OBJS) guest/lib/guest.ld
	@echo "  GLD     $@"
	$(Q)$(CC) $(GUEST_CFLAGS) -static -Wl,--build-id=none -Wl,-n \
		-T guest/lib/guest.ld -o $@ $(GUEST_OBJS) -lgcc

# --- tests ---------------------------------------------------------------
TEST_CFLAGS := $(KT_CFLAGS) $(CRITERION_CFLAGS)
TEST_LIBS := $(LIB) $(KT_LIBS) $(CRITERION_LIBS)
UNIT_SRCS := $(wildcard tests/unit/*.c) tests/page_forge.c
KVM_SRCS := $(wildcard tests/kvm/*.c) tests/helpers.c
E2E_SRCS := $(wildcard tests/e2e/*.c) tests/helpers.c tests/page_forge.c

tests/%.t.o: tests/%.c config-host.h
	@echo "  CC      $@"
	$(Q)$(CC) $(TEST_CFLAGS) -c $< -o $@

tests/unit/unit-tests: $(UNIT_SRCS:tests/%.c=tests/%.t.o) $(LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $^ $(TEST_LIBS)

tests/kvm/kvm-tests: $(KVM_SRCS:tests/%.c=tests/%.t.o) $(LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $^ $(TEST_LIBS)

tests/e2e/e2e-tests: $(E2E_SRCS:tests/%.c=tests/%.t.o) $(LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $^ $(TEST_LIBS)

# Debian's kernel (downloaded by the tests' set-up): a binary of its own so
# that the other suites run without network.
LINUX_SRCS := $(wildcard tests/linux/*.c) tests/helpers.c tests/e2e/migrate_helpers.c
tests/linux/linux-tests: $(LINUX_SRCS:tests/%.c=tests/%.t.o) $(LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $^ $(TEST_LIBS)

# Tiny hand-written guest images for error-path tests (see tests/images/).
TEST_IMAGE_SRCS := $(wildcard tests/images/*.S)
TEST_IMAGES := $(TEST_IMAGE_SRCS:.S=.elf)
tests/images/%.elf: tests/images/%.S tests/images/image.ld
	@echo "  AS      $@"
	$(Q)$(CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -static -Wl,--build-id=none \
		-Wl,-n -T tests/images/image.ld -o $@ $<

# A synthetic bzImage (tests/images/bzimage/): a setup header in front of a
# small 64-bit program that checks what kvmtrack's boot protocol gave it.
BZCHECK_OBJS := tests/images/bzimage/header.guest.o tests/images/bzimage/check.guest.o
$(BZCHECK_OBJS): tests/images/bzimage/bzcheck.h
tests/images/bzcheck.bzImage: $(BZCHECK_OBJS) tests/images/bzimage/bzimage.ld
	@echo "  BZIMAGE $@"
	$(Q)$(CC) $(GUEST_CFLAGS) -static -Wl,--build-id=none -Wl,-n \
		-Wl,--no-warn-rwx-segments -T tests/images/bzimage/bzimage.ld \
		-o $@.elf $(BZCHECK_OBJS) -lgcc
	$(Q)objcopy -O binary $@.elf $@
	$(Q)rm -f $@.elf
	@# syssize counts 16-byte paragraphs: pad the file to a whole one.
	$(Q)truncate -s %16 $@
TEST_IMAGES += tests/images/bzcheck.bzImage

# The Linux tests' initramfs: busybox-static, an /init that reports what the
# kernel found, and a payload whose hash travels beside it.
# Its pvpanic modules come from Debian's kernel package, fetched here (the
# test VM has no network).
LINUX_INITRAMFS := tests/linux/initramfs.cpio.gz
LINUX_KERNEL_DEB := tests/linux-cache/kernel.deb
$(LINUX_KERNEL_DEB):
	$(Q)tests/linux/fetch-kernel.sh tests/linux-cache
LINUX_WRITER := tests/linux/initramfs/writer
$(LINUX_WRITER): tests/linux/initramfs/writer.c
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -static -o $@ $<
$(LINUX_INITRAMFS): tests/linux/initramfs/mkinitramfs.sh \
		tests/linux/initramfs/init.sh $(LINUX_WRITER) $(LINUX_KERNEL_DEB)
	@echo "  CPIO    $@"
	$(Q)tests/linux/initramfs/mkinitramfs.sh $@ $(LINUX_KERNEL_DEB) \
		$(LINUX_WRITER)
TEST_IMAGES += $(LINUX_INITRAMFS)

# The TLS tests' CA, certificates and keys (made afresh, never committed).
TLS_CREDS := tests/tls/creds/ca-cert.pem
$(TLS_CREDS): tests/tls/mkcreds.sh
	@echo "  CERTS   $(dir $@)"
	$(Q)tests/tls/mkcreds.sh $(dir $@)
TEST_IMAGES += $(TLS_CREDS)

TEST_BINS := tests/unit/unit-tests tests/kvm/kvm-tests tests/e2e/e2e-tests \
	tests/linux/linux-tests

# Unit tests here; the suites that need /dev/kvm here when this host's KVM
# works, else inside the test VM (tests/vm/). `make check VM=1` (and
# check-vm) take the VM whatever the host has, as CI does.
check: check-layers all $(TEST_BINS) $(TEST_IMAGES)
	$(Q)KVMTRACK_VM=$(VM) tests/check.sh

# Includes and calls only point down the layers of scripts/layers.conf.
check-layers: kvmtrack guest/kvmtrack-guest.elf
	$(Q)scripts/check-layers --objects $(LIB_OBJS) $(MAIN_OBJ) -- $(GUEST_OBJS)

check-vm:
	$(Q)$(MAKE) --no-print-directory check VM=1

# The soak (tests/e2e/test_soak.c): SOAK_HOPS (50) ping-pong hops of a
# writing guest and as many failed attempts at one destination, each
# process held to no descriptor, thread or memory growth; make check runs
# the same with 10.
SOAK_HOPS ?= 50
soak: all tests/e2e/e2e-tests
	$(Q)KVMTRACK_VM=$(VM) KVMTRACK_SOAK_HOPS=$(SOAK_HOPS) tests/vm/with-kvm \
		--timeout 3600 --env KVMTRACK_SOAK_HOPS \
		tests/e2e/e2e-tests --filter 'soak/*' -j1 --verbose

# --- benchmarks (tests/bench/) ---------------------------------------------
BENCH_BINS := tests/bench/bench-boot tests/bench/bench-migrate

tests/bench/bench-boot: tests/bench/bench_boot.c
	@echo "  CC      $@"
	$(Q)$(CC) $(KT_CFLAGS) -o $@ $<

tests/bench/bench-migrate: $(wildcard tests/bench/bench_migrate*.[ch])
	@echo "  CC      $@"
	$(Q)$(CC) $(KT_CFLAGS) -o $@ $(filter %.c,$^) -lm

# Dirty-rate accuracy beside QEMU's calc-dirty-rate (JSON and the control
# client from the library).
BENCH_BINS += tests/bench/bench-dirtyrate
tests/bench/bench-dirtyrate: tests/bench/bench_dirtyrate.c $(LIB)
	@echo "  CC      $@"
	$(Q)$(CC) $(KT_CFLAGS) -o $@ $^ $(KT_LIBS)

# What TLS costs the migration channel, on this machine's CPU: no guest.
BENCH_BINS += tests/bench/bench-channel
tests/bench/bench-channel: tests/bench/bench_channel.c $(LIB)
	@echo "  CC      $@"
	$(Q)$(CC) $(KT_CFLAGS) -o $@ $< $(LIB) $(KT_LIBS)

BENCH_BINS += tests/bench/bench-alias
tests/bench/bench-alias: tests/bench/bench_alias.c $(LIB)
	@echo "  CC      $@"
	$(Q)$(CC) $(KT_CFLAGS) -o $@ $< $(LIB) $(KT_LIBS)

BENCH_ENV := BENCH_OUT BOOT_RUNS PAGERATE_RUNS QEMU DIRTYLOG_MEM \
	DIRTYLOG_ITERATIONS MIGRATE_RUNS CONVERGE_RUNS MIGRATE_SCENARIOS \
	MIGRATE_ARGS TLS_RUNS
bench: all $(BENCH_BINS) $(LINUX_INITRAMFS) $(TLS_CREDS)
	$(Q)KVMTRACK_VM=$(VM) BENCH_COMMIT=$$(git rev-parse --short HEAD 2>/dev/null) \
		tests/vm/with-kvm --timeout 5400 --env BENCH_COMMIT \
		--back $(or $(BENCH_OUT),bench-results) \
		$(foreach v,$(BENCH_ENV),--env $(v)) tests/bench/run.sh
	@# Here, after the VM: the channel's cost on this CPU, not an emulator's.
	$(Q)tests/bench/bench-channel --json $(or $(BENCH_OUT),bench-results)/channel.json \
		| tee $(or $(BENCH_OUT),bench-results)/channel.md

# --- fuzz targets (tests/fuzz/; docs/security.md) -------------------------
# libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer, from
# Debian's clang. The library is built again with the sanitizers under
# tests/fuzz/build/, outside `make all`. `make fuzz FUZZ_SECONDS=N` runs
# each target for N seconds on a copy of its corpus and fails on any crash,
# leak or sanitizer report.
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -O1 -g -std=gnu11 $(WARNINGS) -Wno-gnu-statement-expression -Wno-format-nonliteral \
	-D_GNU_SOURCE -I. -pthread -fno-omit-frame-pointer $(FUZZ_SAN) \
	$(CAPSTONE_CFLAGS) $(GNUTLS_CFLAGS)
FUZZ_DIR := tests/fuzz/build
FUZZ_TARGETS := migrate_recv vm_state control loaders checkpoint
FUZZ_BINS := $(FUZZ_TARGETS:%=tests/fuzz/fuzz-%)
FUZZ_LIB := $(FUZZ_DIR)/libkvmtrack.a
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_DIR)/%.o)
FUZZ_SECONDS ?= 30

$(FUZZ_DIR)/%.o: %.c config-host.h
	@echo "  FUZZCC  $@"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

tests/fuzz/fuzz-%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_LIB)
	@echo "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) \
		$(KT_LIBS)

fuzz-build: $(FUZZ_BINS)

# Records the seed corpora's real inputs (tests/fuzz/record.sh).
tests/fuzz/record-stream: tests/fuzz/record_stream.c $(LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(KT_CFLAGS) -o $@ $< $(LIB) $(KT_LIBS)

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Line and region coverage of each target's corpus (llvm-cov), for
# docs/security.md: the same targets built with clang's source-based
# coverage instead of the sanitizers, run once over CORPUS_ROOT/TARGET.
FUZZ_COV_DIR := tests/fuzz/build-cov
FUZZ_COV_CFLAGS := $(filter-out $(FUZZ_SAN),$(FUZZ_CFLAGS)) \
	-fprofile-instr-generate -fcoverage-mapping
FUZZ_COV_LIB := $(FUZZ_COV_DIR)/libkvmtrack.a
CORPUS_ROOT ?= tests/fuzz/corpus

$(FUZZ_COV_DIR)/%.o: %.c config-host.h
	@echo "  COVCC   $@"
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_COV_LIB): $(LIB_SRCS:%.c=$(FUZZ_COV_DIR)/%.o)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

tests/fuzz/cov-%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_COV_LIB)
	@echo "  COVLD   $@"
	$(Q)$(FUZZ_CC) $(FUZZ_COV_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_COV_LIB) $(KT_LIBS)

fuzz-coverage: $(FUZZ_TARGETS:%=tests/fuzz/cov-%)
	$(Q)tests/fuzz/coverage.sh $(CORPUS_ROOT) $(FUZZ_TARGETS)

fuzz-clean:
	$(Q)rm -rf $(FUZZ_DIR) $(FUZZ_COV_DIR) $(FUZZ_BINS) \
		$(FUZZ_TARGETS:%=tests/fuzz/cov-%)

.PHONY: fuzz fuzz-build fuzz-coverage fuzz-clean
-include $(wildcard $(FUZZ_LIB_OBJS:.o=.d))

ALL_OBJS := $(LIB_OBJS) $(MAIN_OBJ) $(GUEST_OBJS) $(BZCHECK_OBJS) \
	$(patsubst tests/%.c,tests/%.t.o,$(sort $(UNIT_SRCS) $(KVM_SRCS) \
	$(E2E_SRCS) $(LINUX_SRCS)))

clean:
	$(Q)rm -f kvmtrack $(LIB) $(ALL_OBJS) $(ALL_OBJS:.o=.d) $(TEST_BINS) \
		$(TEST_IMAGES) $(LINUX_INITRAMFS).sha256 $(LINUX_WRITER) \
		guest/kvmtrack-guest.elf \
		$(BENCH_BINS)

distclean: clean
	$(Q)rm -f config.mak config-host.h

.PHONY: all check check-layers check-vm soak bench clean distclean
-include $(wildcard $(ALL_OBJS:.o=.d))

# The README's first command: boot the bundled guest, migrate it live to a
# second kvmtrack on localhost and show what happened.
demo: all
	$(Q)KVMTRACK_VM=$(VM) tests/vm/with-kvm --timeout 600 scripts/demo.sh
.PHONY: demo
