# ml-connector: one non-recursive GNU Makefile.
#
#   make               release build in build/release (bin: build/release/mlc)
#   make test          banned-function check, unit tests, end-to-end tests
#   make asan          the same sources with ASan+UBSan in build/asan
#   make test-asan     the suite under ASan+UBSan
#   make valgrind      the unit tests under valgrind (release build)
#   make test-ahead    the suite again with every clock a year ahead (faketime)
#   make bench         every benchmark, one table (bench/README.md; not a test)
#   make bench-scale   several processes on one store (bench/scale.sh; ~40 min)
#   make fuzz          build the libFuzzer targets (clang) in build/fuzz and run
#                      each FUZZ_S seconds (default 10) on a copy of its corpus
#   make install       PREFIX=/usr/local DESTDIR=
#   make deb           the Debian package in build/deb (debian/, scripts/build-deb)
#   make clean
#
# Variant directories: VARIANT=release|asan selects flags and BUILD dir.

VARIANT ?= release
BUILD   ?= build/$(VARIANT)
PREFIX  ?= /usr/local
DESTDIR ?=

PKGS := libcurl libmicrohttpd jansson yaml-0.1 libsodium sqlite3 libpq libsystemd
TEST_PKGS := cmocka

# Dependency check: when a pkg-config module is missing, run scripts/install-deps
# as root, else print the apt-get line the user has to run.
ifeq ($(filter clean,$(MAKECMDGOALS)),)
PKG_MISSING := $(shell pkg-config --exists $(PKGS) $(TEST_PKGS) 2>/dev/null || echo missing)
ifneq ($(PKG_MISSING),)
ifeq ($(shell id -u),0)
$(info ml-connector: missing build dependencies, running scripts/install-deps)
PKG_INSTALL := $(shell scripts/install-deps >&2 && echo ok)
ifneq ($(PKG_INSTALL),ok)
$(error scripts/install-deps failed)
endif
else
$(error missing build dependencies; run as root: $(shell scripts/install-deps --print))
endif
endif
endif

CC      ?= gcc
WARN    := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Werror
# snprintf truncation is the intended, bounded behaviour wherever we use it.
WARN    += -Wno-format-truncation
CSTD    := -std=c17 -D_GNU_SOURCE
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
TEST_CFLAGS := $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS   := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

ifeq ($(VARIANT),asan)
OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDOPT := -fsanitize=address,undefined
else
OPT := -O2 -g
LDOPT :=
endif

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
CFLAGS_ALL := $(CSTD) $(WARN) $(OPT) -Isrc -DMLC_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
LDFLAGS_ALL := $(LDOPT) $(LDFLAGS)

LIB_SRCS  := $(sort $(shell find src -name '*.c' ! -path src/main.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
# The web console's pages (web/) embedded as C arrays by tools/embed.c,
# built with the build's own compiler: no other tool, no registry.
WEB_FILES := $(sort $(notdir $(wildcard web/*.html web/*.css web/*.js)))
ASSETS_C  := $(BUILD)/gen/console_assets.c
LIB_OBJS  += $(BUILD)/gen/console_assets.o
LIB       := $(BUILD)/libmlc.a
MAIN_OBJ  := $(BUILD)/src/main.o
BIN       := $(BUILD)/mlc

# The simulators (sim/) build into their own library and the mlc-sim binary;
# they share core/ and net/ with the connector but never its flows.
SIM_SRCS  := $(sort $(shell find sim -name '*.c' ! -path sim/main.c 2>/dev/null))
SIM_OBJS  := $(SIM_SRCS:%.c=$(BUILD)/%.o)
SIM_LIB   := $(if $(SIM_SRCS),$(BUILD)/libmlcsim.a)
SIM_BIN   := $(if $(wildcard sim/main.c),$(BUILD)/mlc-sim)

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Unit tests that also run against a private PostgreSQL server
# (tests/lib/pg-server; skipped, saying why, without the server binaries).
PG_UNITS  := $(BUILD)/tests/test_store
TEST_HELP_SRCS := $(wildcard tests/unit/helpers/*.c)
TEST_HELP_OBJS := $(TEST_HELP_SRCS:%.c=$(BUILD)/%.o)

# Keep object files of pattern-built test binaries.
.SECONDARY:

.PHONY: all test unit e2e check-banned asan test-asan valgrind test-ahead contract demo bench bench-scale fuzz fuzz-build install deb clean
all: $(BIN) $(SIM_BIN) $(UNIT_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(if $(filter sim/% tests/%,$<),-Isim) $(if $(filter tests/%,$<),$(TEST_CFLAGS) -Itests/unit) -c $< -o $@

$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(@D)
	$(CC) -std=c17 -O2 -Wall -Wextra -Werror -o $@ $<

$(ASSETS_C): $(BUILD)/tools/embed $(addprefix web/,$(WEB_FILES))
	@mkdir -p $(@D)
	$(BUILD)/tools/embed $@ web $(WEB_FILES)

$(BUILD)/gen/console_assets.o: $(ASSETS_C)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $(MAIN_OBJ) $(LIB) $(PKG_LIBS)

$(SIM_LIB): $(SIM_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/mlc-sim: $(BUILD)/sim/main.o $(SIM_LIB) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(SIM_LIB) $(LIB) $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TEST_HELP_OBJS) $(SIM_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(TEST_HELP_OBJS) $(SIM_LIB) $(LIB) $(TEST_LIBS) $(PKG_LIBS)

check-banned:
	@scripts/check-banned src tests/unit $(wildcard sim fuzz)

# The suite: one aggregated "N passed, N failed" line at the end.
test: $(BIN) $(SIM_BIN) $(UNIT_BINS) check-banned
	@scripts/run-tests --build $(BUILD) $(PG_UNITS:%=--pg %) $(UNIT_BINS)

unit: $(UNIT_BINS)
	@scripts/run-tests --build $(BUILD) --unit-only $(PG_UNITS:%=--pg %) $(UNIT_BINS)

asan:
	@$(MAKE) --no-print-directory VARIANT=asan all

test-asan:
	@$(MAKE) --no-print-directory VARIANT=asan test

valgrind: $(BIN) $(SIM_BIN) $(UNIT_BINS)
	@scripts/run-tests --build $(BUILD) --valgrind $(PG_UNITS:%=--pg %) $(UNIT_BINS)

# The end-to-end suite with the wall clock of every process (the
# simulators, mlc, the test scripts) moved AHEAD (default a year) by
# libfaketime: a seed, fixture or test that depends on today's date fails
# here first. (The unit tests pin their simulators' clocks; AHEAD_UNITS=1
# runs them too. The serial fault-injection scripts, chaos and cluster,
# already ran in the release and ASan suites and take a third of this one's
# time: AHEAD_SERIAL=1 runs them too.)
AHEAD ?= +365d
test-ahead: $(BIN) $(SIM_BIN) $(UNIT_BINS)
	@command -v faketime >/dev/null || { echo "test-ahead needs faketime: scripts/install-deps"; exit 1; }
	@faketime -m -f '$(AHEAD)' date -u '+clock moved $(AHEAD): %F %T UTC'
	@faketime -m -f '$(AHEAD)' scripts/run-tests --build $(BUILD) $(if $(AHEAD_UNITS),,--e2e-only) $(if $(AHEAD_SERIAL),,--no-serial) $(UNIT_BINS)

# The README's first command: both simulators and the real daemon on
# loopback, a seeded store posted into simulated JDE, and a report.
demo: $(BIN) $(SIM_BIN)
	@MLC=$(BIN) MLC_SIM=$(SIM_BIN) DEMO_DIR=$(BUILD)/demo scripts/demo

# Every BigCommerce body the simulator serves and every request our client
# sends, checked against the official specs with ../shared/tools/bc-spec-check
# (MLC_SHARED_DIR overrides).
contract: $(SIM_BIN) $(LIB)
	@scripts/contract-check --build $(BUILD) && tests/contract/client.sh --build $(BUILD)

# Every benchmark against the real binaries, one table of figures and
# targets (also $(BUILD)/bench.json). Never part of test or CI: figures, not
# assertions. bench/whload is the webhook load generator.
$(BUILD)/bench/whload: bench/whload.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(OPT) $(shell pkg-config --cflags libsodium) $(CFLAGS) $(LDFLAGS_ALL) -o $@ $< $(shell pkg-config --libs libsodium)

bench: $(BIN) $(SIM_BIN) $(LIB) $(BUILD)/bench/whload
	@bench/bench.sh $(BUILD)

# Not in `make bench`: about 40 minutes (QUICK=1: a few). Figures also in
# $(BUILD)/bench/scale.json.
bench-scale: $(BIN) $(SIM_BIN) $(BUILD)/bench/whload
	@mkdir -p $(BUILD)/bench
	@BENCH_JSON=$(CURDIR)/$(BUILD)/bench/scale.json bench/scale.sh $(BUILD)

# libFuzzer targets (fuzz/fuzz_<name>.c), built by clang with ASan+UBSan
# against the project's own sources (their own objects in build/fuzz/obj).
# `make fuzz FUZZ_S=N` runs each N seconds on a copy of fuzz/corpus/<name>
# (scripts/run-fuzz: one "N passed, M failed" line, a crash fails).
FUZZ_CC   ?= clang
FUZZ_S    ?= 10
FUZZ_DIR  := build/fuzz
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := $(CSTD) $(filter-out -Werror,$(WARN)) -Wno-unknown-warning-option -g -O1 \
	-fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link -Isrc \
	-DMLC_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -MMD -MP
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/libmlc.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/fuzz/fuzz_%.o $(FUZZ_DIR)/libmlc.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_DIR)/libmlc.a $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@FUZZ_ARGS='$(FUZZ_ARGS)' scripts/run-fuzz --build $(FUZZ_DIR) --seconds $(FUZZ_S) $(FUZZ_BINS)

# The systemd unit gets the installed binary's path at install time
# (etc/mlc.service.in; `make install PREFIX=/usr`).
UNITDIR ?= $(PREFIX)/lib/systemd/system

# Manual pages and bash completion, generated from the binary's own tables
# (scripts/gen-man, scripts/gen-completion): they cannot drift from it.
MAN_PAGES := $(BUILD)/man/mlc.1 $(BUILD)/man/mlc.yaml.5
$(MAN_PAGES) &: $(BIN) scripts/gen-man
	scripts/gen-man $(BIN) $(BUILD)/man $(VERSION)
$(BUILD)/mlc.bash-completion: $(BIN) scripts/gen-completion
	scripts/gen-completion $(BIN) > $@

DOCDIR  ?= $(PREFIX)/share/doc/ml-connector
MANDIR  ?= $(PREFIX)/share/man
COMPDIR ?= $(PREFIX)/share/bash-completion/completions
install: $(BIN) $(MAN_PAGES) $(BUILD)/mlc.bash-completion
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(COMPDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mlc
	sed 's#@BINDIR@#$(PREFIX)/bin#g' etc/mlc.service.in > $(DESTDIR)$(UNITDIR)/mlc.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/mlc.service
	install -m 0644 $(BUILD)/man/mlc.1 $(DESTDIR)$(MANDIR)/man1/mlc.1
	install -m 0644 $(BUILD)/man/mlc.yaml.5 $(DESTDIR)$(MANDIR)/man5/mlc.yaml.5
	install -m 0644 $(BUILD)/mlc.bash-completion $(DESTDIR)$(COMPDIR)/mlc
	install -m 0644 etc/mlc.example.yaml README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/

# The Debian package, built by dpkg-buildpackage from a copy of the tree;
# its debian/rules installs with `make install PREFIX=/usr`.
DEB_DIR ?= build/deb
deb:
	scripts/build-deb $(DEB_DIR) $(VERSION)

# (build/deb, the package's default place, goes with build.)
clean:
	rm -rf build

-include $(if $(filter fuzz%,$(MAKECMDGOALS)),$(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_SRCS:%.c=$(FUZZ_DIR)/obj/%.d)) $(LIB_OBJS:.o=.d) $(SIM_OBJS:.o=.d) $(BUILD)/sim/main.d $(MAIN_OBJ:.o=.d) $(UNIT_SRCS:%.c=$(BUILD)/%.d) $(TEST_HELP_OBJS:.o=.d)
