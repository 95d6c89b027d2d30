# SPDX-License-Identifier: 0BSD
# The ptools build: four programs over one static library, libcommon.a.
#
#   make            bin/pfind bin/phash bin/pverify bin/pcopy (-O2)
#   make test       build, then run the bats suite and the C unit tests
#   make check      the same suite against an ASan+UBSan build in build/asan
#   make tsan       the parallel tests against a ThreadSanitizer build
#   make valgrind   memcheck over a representative subset of the suite
#   make fuzz       libFuzzer targets in tests/fuzz, FUZZ_SECONDS each
#   make lint       cppcheck and clang-tidy with the checked-in configurations
#   make bench      the benchmarks in bench/ (writes docs/BENCHMARKS.md)
#   make demo       sample tree -> hash -> verify -> sealed copy
#   make fixture    build/bench/latencyfs, the FUSE latency fixture of the
#                   far-storage tests and benchmarks (needs libfuse3-dev;
#                   never part of all: the programs stay FUSE-free)
#   make install    PREFIX=/usr/local DESTDIR= (programs, man pages, bash completion)
#   make deb        build/deb/ptools_VERSION_ARCH.deb (dpkg-buildpackage, no network)
#   make test-package  only the package's tests (build it, try it from a scratch root)
#
# O is the object directory and BIN the binary directory, so that differently
# instrumented builds never share an object file.

PROGRAMS := pfind phash pverify pcopy
O        ?= build/release
BIN      ?= bin
PREFIX   ?= /usr/local
MANDIR   ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PKG_CONFIG ?= pkg-config
# The one place the version is written: VERSION (debian/changelog must agree:
# make check-version, run by make test, fails when it does not).
VERSION  := $(shell cat VERSION)

CC       ?= cc
CFLAGS   ?= -O2 -g
WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcrypto libxxhash zlib libzstd expat 2>/dev/null)
DEPS_LIBS   := $(shell $(PKG_CONFIG) --libs libcrypto libxxhash zlib libzstd expat 2>/dev/null || \
		 echo -lcrypto -lxxhash -lz -lzstd -lexpat)
ALL_CFLAGS  := -std=gnu11 $(CFLAGS) $(WARNINGS) $(SAN_FLAGS) -pthread -Ilibcommon \
               -DPTOOLS_VERSION='"$(VERSION)"' $(DEPS_CFLAGS) -MD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SAN_FLAGS) -pthread
LIBS        := $(DEPS_LIBS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC  := $(sort $(wildcard libcommon/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(O)/%.o)
LIBA     := $(O)/libcommon.a
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ := $(UNIT_SRC:%.c=$(O)/%.o)
BINS     := $(PROGRAMS:%=$(BIN)/%)

all: $(BINS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

# diag.c prints the version (--version): a new VERSION rebuilds it.
$(O)/libcommon/diag.o: VERSION

$(LIBA): $(LIB_OBJ)
	@$(if $(Q),echo '  AR      $@')
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# Each program is every .c file in its own directory, linked with libcommon.a.
define program_rule
$(1)_OBJ := $$(patsubst %.c,$(O)/%.o,$$(sort $$(wildcard $(1)/*.c)))
$(BIN)/$(1): $$($(1)_OBJ) $(LIBA)
	@mkdir -p $$(@D)
	@$$(if $(Q),echo '  LD      $$@')
	$(Q)$(CC) $(ALL_LDFLAGS) -o $$@ $$($(1)_OBJ) $(LIBA) $(LIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

# pcopy/proto.c needs nothing of pcopy but its header: its unit tests
# (tests/unit/test_proto.c) link it alone; mhlcarry.c needs only proto.c
# (tests/unit/test_mhlcarry.c). The journal's four files need only each
# other (tests/unit/test_journal.c).
UNIT_EXTRA_OBJ := $(O)/pcopy/proto.o $(O)/pcopy/mhlcarry.o $(O)/pcopy/journal.o $(O)/pcopy/journal_group.o \
		  $(O)/pcopy/journal_read.o $(O)/pcopy/journal_finish.o

$(BIN)/unit-tests: $(UNIT_OBJ) $(UNIT_EXTRA_OBJ) $(LIBA)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(UNIT_OBJ) $(UNIT_EXTRA_OBJ) $(LIBA) $(LIBS)

# The test suite runs against the binaries in $(BIN); tests/run picks bats and
# exports PTOOLS_BIN so the .bats files never hard-code where binaries live.
# docs/RELIABILITY.md names the test behind each guarantee: a citation of a
# test that no longer exists fails the suite.
test: $(BINS) $(BIN)/unit-tests check-version
	$(Q)tests/check_reliability.py
	$(Q)PTOOLS_BIN=$(abspath $(BIN)) tests/run $(TESTS)

SAN_CHECK := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
check:
	$(Q)$(MAKE) --no-print-directory O=build/asan BIN=build/asan/bin \
		CFLAGS="-O1 -g" SAN_FLAGS="$(SAN_CHECK)" test

tsan:
	$(Q)$(MAKE) --no-print-directory O=build/tsan BIN=build/tsan/bin \
		CFLAGS="-O1 -g" SAN_FLAGS="-fsanitize=thread" \
		TESTS="$(TSAN_TESTS)" test

# The tests that drive the parallel paths of each program.
TSAN_TESTS ?= tests/pfind.bats tests/phash.bats tests/pverify.bats tests/pcopy.bats tests/remote.bats \
	      tests/property.bats

# The C unit tests (pool, output, reorder window, codec) under memcheck first,
# then the bats subset with every tool wrapped (tests/test_helper.bash). The
# property test runs one small random tree here: memcheck is slow. Files are
# read without io_uring (PTOOLS_IO_URING=0): memcheck does not see the kernel
# fill a buffer through the ring, so it would call every byte read that way
# uninitialised (the ring is checked by ASan in make check).
VALGRIND := valgrind -q --error-exitcode=126 --leak-check=full --errors-for-leak-kinds=definite
valgrind: $(BINS) $(BIN)/unit-tests
	$(Q)PTOOLS_IO_URING=0 $(VALGRIND) --log-file=$(O)/valgrind-unit.log $(BIN)/unit-tests || \
		{ cat $(O)/valgrind-unit.log; exit 1; }
	$(Q)PTOOLS_IO_URING=0 PTOOLS_BIN=$(abspath $(BIN)) PTOOLS_VALGRIND=1 PTOOLS_SEEDS=1 PTOOLS_TREE_MIB=4 \
		tests/run $(VALGRIND_TESTS)

VALGRIND_TESTS ?= tests/format.bats tests/phash.bats tests/pverify.bats tests/reliability.bats \
		  tests/property.bats

# Static analysis with the checked-in configurations: .cppcheck-suppressions
# (each suppression explained) and .clang-tidy (each disabled check
# explained). Any finding fails the target. LINT_JOBS files at a time.
CPPCHECK   ?= cppcheck
CLANG_TIDY ?= clang-tidy
LINT_JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
LINT_DIRS  := libcommon $(PROGRAMS)
LINT_SRC    = $(sort $(foreach d,$(LINT_DIRS),$(wildcard $(d)/*.c)))
TIDY_FLAGS  = -std=gnu11 $(WARNINGS) -pthread -Ilibcommon -DPTOOLS_VERSION='"$(VERSION)"' \
              $(DEPS_CFLAGS)

lint: lint-cppcheck lint-tidy

lint-cppcheck:
	$(Q)$(CPPCHECK) --quiet --error-exitcode=1 --std=c11 --inline-suppr \
		--enable=warning,style,performance,portability \
		--suppressions-list=.cppcheck-suppressions -Ilibcommon -j$(LINT_JOBS) $(LINT_DIRS)

lint-tidy:
	$(Q)printf '%s\n' $(LINT_SRC) | \
		xargs -P$(LINT_JOBS) -I{} $(CLANG_TIDY) --quiet {} -- $(TIDY_FLAGS)

FUZZ_SECONDS ?= 60
fuzz:
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run

bench: $(BINS)
	$(Q)PTOOLS_BIN=$(abspath $(BIN)) bench/run

# The latency fixture (bench/latencyfs/latencyfs.c): a FUSE passthrough
# that delays each request. Only tests/far.bats and the benchmarks use it,
# through tests/latencyfs.bash, which skips where this cannot be built.
LATENCYFS := build/bench/latencyfs
fixture: $(LATENCYFS)

$(LATENCYFS): bench/latencyfs/latencyfs.c
	$(Q)$(PKG_CONFIG) --exists fuse3 || \
		{ echo "make fixture: libfuse3 not found (pkg-config fuse3): install libfuse3-dev" >&2; exit 1; }
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $@')
	$(Q)$(CC) -std=gnu11 $(CFLAGS) $(WARNINGS) -pthread $$($(PKG_CONFIG) --cflags fuse3) \
		-o $@ $< $$($(PKG_CONFIG) --libs fuse3)

demo: $(BINS)
	$(Q)PTOOLS_BIN=$(abspath $(BIN)) ./demo.sh

# bash-completion loads a command's completion from the file named after it:
# completion/ptools.bash serves all four, installed as pfind with the other
# three names linked to it.
install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(PROGRAMS:%=man/%.1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 completion/ptools.bash $(DESTDIR)$(BASHCOMPDIR)/pfind
	for p in $(filter-out pfind,$(PROGRAMS)); do \
		ln -sf pfind $(DESTDIR)$(BASHCOMPDIR)/$$p || exit 1; done

uninstall:
	rm -f $(PROGRAMS:%=$(DESTDIR)$(PREFIX)/bin/%) $(PROGRAMS:%=$(DESTDIR)$(MANDIR)/man1/%.1) \
		$(PROGRAMS:%=$(DESTDIR)$(BASHCOMPDIR)/%)

# debian/changelog's newest entry must carry VERSION (a native package: no
# Debian revision), or the package would say one version and --version another.
check-version:
	$(Q)v=$$(sed -n '1s/^ptools (\([^)]*\)).*/\1/p' debian/changelog); \
	if [ "$$v" != "$(VERSION)" ]; then \
		echo "VERSION says '$(VERSION)' but debian/changelog says '$$v':" \
			"add a changelog entry (dch -v $(VERSION))" >&2; exit 1; fi

# The Debian package, built by dpkg-buildpackage from a copy of this tree in
# DEB_DIR (so that the build leaves nothing in the tree), unsigned, binary
# only: DEB_DIR/ptools_VERSION_ARCH.deb, beside the -dbgsym package and the
# .buildinfo and .changes files. Needs debhelper and dpkg-dev, and the
# Build-Depends of debian/control; no network. Only this version's files
# are removed from DEB_DIR first; a DEB_DIR inside the tree belongs under
# build/, which the copy leaves out.
DEB_DIR ?= build/deb
DEB_SRC  = $(DEB_DIR)/ptools-$(VERSION)
deb: check-version
	$(if $(strip $(DEB_DIR)),,$(error DEB_DIR is empty))
	$(Q)rm -rf $(DEB_SRC) $(DEB_DIR)/ptools_$(VERSION)_* $(DEB_DIR)/ptools-dbgsym_$(VERSION)_*
	$(Q)mkdir -p $(DEB_SRC)
	$(Q)tar -cf - --exclude=./.git --exclude=./build --exclude=./bin \
		--exclude=./bench/results . | tar -xf - -C $(DEB_SRC)
	$(Q)cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b
	$(Q)rm -rf $(DEB_SRC)
	@ls $(DEB_DIR)/ptools_$(VERSION)_*.deb

# Build the package and try it: tests/package.bats alone (make test runs it
# with the rest; it takes about 20 s, most of it the package's own build).
test-package:
	$(Q)PTOOLS_BIN=$(abspath $(BIN)) tests/run tests/package.bats

clean:
	rm -rf build bin

.PHONY: all test check tsan valgrind lint lint-cppcheck lint-tidy fuzz bench demo fixture install \
	uninstall clean check-version deb test-package

-include $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(foreach p,$(PROGRAMS),$($(p)_OBJ:.o=.d))
