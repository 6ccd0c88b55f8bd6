# qemuctl — see README.md. `make`, `make test`, `make check-asan`, `make fuzz`,
# `make bench`, `make install PREFIX=/usr/local DESTDIR=...`.

CC ?= cc
CFLAGS ?= -O2 -g
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
SYSCONFDIR ?= /etc
# the definitions the units start (CONFDIR of launcher/defs.h for root)
QEMUCTL_CONFDIR_SYSTEM ?= $(SYSCONFDIR)/qemuctl
# systemd's unit dir: the distribution's for PREFIX=/usr (pkg-config systemd),
# else under PREFIX (/usr/local/lib/systemd/system is on systemd's unit path)
ifeq ($(PREFIX),/usr)
SYSTEMDUNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
else
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
endif
BUILD ?= build
PKG_CONFIG ?= pkg-config

WARNINGS = -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
           -Wformat=2 -Wswitch-default -Wno-unused-parameter
PKGS = json-c libcap-ng yaml-0.1
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))
override CPPFLAGS += -D_GNU_SOURCE -I. $(PKG_CFLAGS)
override CFLAGS += -std=gnu11 $(WARNINGS) -MMD -MP
LDLIBS = $(PKG_LIBS) -lnuma -lpthread

# One static library per module (DESIGN.md); tests link what they use.
MODULES = common qmp cgroups launcher vm host
define module_vars
$(1)_SRC := $$(wildcard $(1)/*.c)
$(1)_OBJ := $$(patsubst %.c,$$(BUILD)/%.o,$$($(1)_SRC))
$(1)_LIB := $$(BUILD)/lib$(1).a
endef
$(foreach m,$(MODULES),$(eval $(call module_vars,$(m))))
# link order: dependents first
LIBS_ORDERED = $(vm_LIB) $(launcher_LIB) $(host_LIB) $(cgroups_LIB) $(qmp_LIB) $(common_LIB)

# the systemd units, with this install's paths (systemd/*.in; `units`)
UNITS := $(patsubst systemd/%.in,$(BUILD)/systemd/%,$(wildcard systemd/*.in))

CLI_SRC := $(wildcard cli/*.c)
CLI_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(CLI_SRC))

TEST_SRC := $(wildcard tests/test-*.c)
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
TESTLIB_SRC := $(wildcard tests/lib/*.c)
TESTLIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(TESTLIB_SRC))
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))
GEN_DOCS := $(BUILD)/tools/gen-docs
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

all: qemuctl

qemuctl: $(BUILD)/qemuctl
	cp $< $@.tmp && mv -f $@.tmp $@

# libedit (the qmp/hmp shells' line editing) is the command's alone
CLI_LIBS := $(shell $(PKG_CONFIG) --libs libedit)
$(BUILD)/qemuctl: $(CLI_OBJ) $(LIBS_ORDERED)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIBS_ORDERED) $(LDLIBS) $(CLI_LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

define module_lib
$$($(1)_LIB): $$($(1)_OBJ)
	@mkdir -p $$(dir $$@)
	rm -f $$@
	$$(AR) rcs $$@ $$^ $$(if $$($(1)_OBJ),,$$(BUILD)/empty.o)
endef
$(foreach m,$(MODULES),$(eval $(call module_lib,$(m))))

# ar wants at least one member for a module that has no sources yet
$(BUILD)/empty.o:
	@mkdir -p $(BUILD)
	echo 'extern int qemuctl_empty_unit;' | $(CC) -x c -c -o $@ -

$(foreach m,$(MODULES),$(if $($(m)_OBJ),,$(eval $($(m)_LIB): $(BUILD)/empty.o)))

$(BUILD)/tests/%: tests/%.c $(TESTLIB_OBJ) $(LIBS_ORDERED)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(TESTLIB_OBJ) $(LIBS_ORDERED) $(LDLIBS)

$(BUILD)/tests/tools/%: tests/tools/%.c $(TESTLIB_OBJ) $(LIBS_ORDERED)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(TESTLIB_OBJ) $(LIBS_ORDERED) $(LDLIBS)

$(BUILD)/tools/%: tools/%.c $(LIBS_ORDERED)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS_ORDERED) $(LDLIBS)

# The VM file's docs from the key table (launcher/spec-keys.c), checked in;
# tests/integration/generated-docs.sh fails when they are stale.
generate: $(GEN_DOCS)
	$(GEN_DOCS) md docs/vm-file.md >docs/vm-file.md.tmp && mv -f docs/vm-file.md.tmp docs/vm-file.md
	$(GEN_DOCS) schema >docs/vm-file.schema.json.tmp && mv -f docs/vm-file.schema.json.tmp docs/vm-file.schema.json
	@mkdir -p docs/man
	$(GEN_DOCS) man docs/vm-file.md >docs/man/qemuctl-vm.5.tmp && mv -f docs/man/qemuctl-vm.5.tmp docs/man/qemuctl-vm.5

$(BUILD)/bench/%: bench/%.c $(LIBS_ORDERED)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -Wl,--as-needed -o $@ $< $(LIBS_ORDERED) $(LDLIBS)

# Made from the verb table (cli/verbs.c) by gen-verbdoc, which links the cli
# objects without main.o; checked in; tests/integration/verb-docs.sh fails
# when they are stale.
VERBDOC = $(BUILD)/gen-verbdoc
VERBDOC_FILES = docs/man/qemuctl.1:man docs/completion/qemuctl.bash:bash docs/completion/_qemuctl:zsh
$(VERBDOC): cli/gen/verbdoc.c $(filter-out $(BUILD)/cli/main.o,$(CLI_OBJ)) $(LIBS_ORDERED)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(filter-out $(BUILD)/cli/main.o,$(CLI_OBJ)) $(LIBS_ORDERED) $(LDLIBS) $(CLI_LIBS)
generate: generate-verbs
generate-verbs: $(VERBDOC)
	@mkdir -p docs/man docs/completion
	set -e; for fk in $(VERBDOC_FILES); do f=$${fk%:*}; $(VERBDOC) $${fk#*:} >$$f.tmp; mv $$f.tmp $$f; done

# tests run the binary of their own build (a sanitizer build never replaces ./qemuctl)
test-programs: $(BUILD)/qemuctl $(TEST_BIN) $(TOOL_BIN) $(GEN_DOCS) $(VERBDOC) guest debian-image $(UNITS)

# The Debian 12 test image (tests/debian-image/README.md): a real distribution
# guest, built from the machine's apt sources, rebuilt only when its recipe
# changes. Exit 77 = a prerequisite is missing (named in
# $(BUILD)/debian-image/MISSING); the tests that boot it then skip.
debian-image: $(BUILD)/debian-image/base.qcow2
$(BUILD)/debian-image/base.qcow2: $(wildcard tests/debian-image/*) tests/lib/debian-root.sh
	tests/debian-image/build.sh $(BUILD)/debian-image || [ $$? = 77 ]

# The test guest (tests/guest/README.md). Exit 77 = a prerequisite is missing
# (named in $(BUILD)/guest/MISSING); the guest tests then skip.
guest: $(BUILD)/guest/initrd.img
$(BUILD)/guest/initrd.img: $(wildcard tests/guest/*) $(wildcard /boot/vmlinuz-*-amd64)
	tests/guest/build.sh $(BUILD)/guest || [ $$? = 77 ]

# The cgroup guest (tests/cgroup-guest/README.md): qemuctl + QEMU inside a TCG
# guest with a real cgroup v2. tests/integration/cgroup-guest.sh also builds
# it when it is missing or stale.
cgroup-guest: $(BUILD)/cgroup-guest/initrd.img
$(BUILD)/cgroup-guest/initrd.img: qemuctl $(BUILD)/guest/initrd.img $(BUILD)/tests/test-cgroups-real $(wildcard tests/cgroup-guest/*)
	QEMUCTL=./qemuctl QEMUCTL_BUILD=$(BUILD) tests/cgroup-guest/build.sh $(BUILD)/cgroup-guest || [ $$? = 77 ]

# Every test: unit tests (tests/test-*.c) and integration tests
# (tests/integration/*.sh, real QEMU). One summary line at the end.
test: test-programs
	BUILD=$(BUILD) QEMUCTL=$(CURDIR)/$(BUILD)/qemuctl tests/run-tests.sh $(TEST_BIN) $(sort $(wildcard tests/integration/*.sh))

test-unit: test-programs
	BUILD=$(BUILD) QEMUCTL=$(CURDIR)/$(BUILD)/qemuctl tests/run-tests.sh $(TEST_BIN)

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
check-asan:
	$(MAKE) BUILD=build-asan CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" test-unit

# libFuzzer targets (fuzz/fuzz-*.c), each run for FUZZ_SECONDS (ten targets:
# 10 x FUZZ_SECONDS in all; CI, .ci/run, gives each 30 s).
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard fuzz/fuzz-*.c)
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang \
	  CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" fuzz-run

fuzz-run: $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
	tests/run-fuzz.sh $(FUZZ_SECONDS) $^

$(BUILD)/fuzz/%: fuzz/%.c $(LIBS_ORDERED)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(LIBS_ORDERED) $(LDLIBS)

bench: qemuctl guest $(BENCH_BIN) $(TOOL_BIN)
	BUILD=$(BUILD) bench/run-bench.sh

# The systemd units (systemd/*.in), with this install's paths.
units: $(UNITS)
$(BUILD)/systemd/%: systemd/%.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@CONFDIR@|$(QEMUCTL_CONFDIR_SYSTEM)|g' $< >$@.tmp && mv -f $@.tmp $@

# the binary of this build, the man pages, the completions (docs/man/*.1
# to man1, *.5 to man5) and the systemd units
install: $(BUILD)/qemuctl $(UNITS)
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0644 $(UNITS) $(DESTDIR)$(SYSTEMDUNITDIR)/
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0755 $(BUILD)/qemuctl $(DESTDIR)$(BINDIR)/qemuctl
	install -m 0644 $(wildcard docs/man/*.1) $(DESTDIR)$(MANDIR)/man1/
	$(if $(wildcard docs/man/*.5),install -m 0644 $(wildcard docs/man/*.5) $(DESTDIR)$(MANDIR)/man5/)
	install -m 0644 docs/completion/qemuctl.bash $(DESTDIR)$(BASHCOMPDIR)/qemuctl
	install -m 0644 docs/completion/_qemuctl $(DESTDIR)$(ZSHCOMPDIR)/_qemuctl
	install -d $(DESTDIR)$(PREFIX)/share/qemuctl
	install -m 0644 docs/vm-file.schema.json $(DESTDIR)$(PREFIX)/share/qemuctl/vm-file.schema.json

clean:
	rm -rf build build-asan build-fuzz qemuctl

# bench/ and fuzz/ are directories: without this, `make bench` and `make
# fuzz` (and .ci/run's fuzz step) say "up to date" and run nothing
.PHONY: units all generate generate-verbs test test-unit test-programs guest cgroup-guest debian-image check-asan fuzz fuzz-run bench install clean
.SECONDARY:

# (not the container's root file system: its etc/*.d are directories)
-include $(shell find $(BUILD) -path $(BUILD)/systemd-container -prune -o -name '*.d' -type f -print 2>/dev/null)
