# corral: the one entry point.  make | make run | make test | make bench |
# make chaos (SEED, CHAOS_ARGS) | make fuzz (FUZZ_SECONDS, FUZZ_TARGETS) |
# make install (PREFIX, DESTDIR) | make clean
#
# BUILD is the output directory; SAN=1 builds with AddressSanitizer and
# UndefinedBehaviorSanitizer (make test does both builds).

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
SAN ?=
CC ?= cc

PKGS := libevent sqlite3 inih
# Deferred (=): evaluated when a recipe runs, after 'deps' installed them.
# libpq's header only: the store loads libpq when it opens a PostgreSQL
# database (worker-sdk/pq.c), so that nothing else maps it.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) libpq)
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)
# libcorral's own needs: the checkpoint store is SQLite or PostgreSQL.
SDK_LIBS = $(shell pkg-config --libs sqlite3) -lm
# test_store also writes PostgreSQL rows of its own (corrupt ones).
PQ_LIBS = $(shell pkg-config --libs libpq)

WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
SANFLAGS := $(if $(SAN),$(SANITIZE))
ALL_CFLAGS = $(WARN) -D_GNU_SOURCE $(CFLAGS) $(SANFLAGS) -fPIC \
	-Iworker-sdk -Isupervisor $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

SDK_SRC := worker-sdk/backoff.c worker-sdk/breaker.c worker-sdk/classify.c \
	worker-sdk/pq.c worker-sdk/store.c worker-sdk/store_memory.c worker-sdk/store_sqlite.c \
	worker-sdk/store_pg.c \
	worker-sdk/fallback.c worker-sdk/retry.c worker-sdk/worker_api.c
D_SRC := supervisor/argv.c supervisor/breakers.c supervisor/cgroup.c \
	supervisor/clock.c supervisor/cluster.c supervisor/config.c \
	supervisor/cron.c supervisor/recycle.c supervisor/envfile.c \
	supervisor/control.c supervisor/hook.c supervisor/http.c \
	supervisor/lease.c supervisor/lease_pg.c supervisor/limits.c \
	supervisor/nametab.c supervisor/order.c \
	supervisor/rlimit.c supervisor/usage.c supervisor/plan.c supervisor/cglimit.c \
	supervisor/notify.c supervisor/notify_socket.c supervisor/request.c \
	supervisor/log.c supervisor/output.c supervisor/reexec.c \
	supervisor/restart.c supervisor/resume.c supervisor/runs.c \
	supervisor/spawn.c supervisor/statedb.c supervisor/units.c \
	supervisor/watch.c supervisor/worker.c
UNIT_SRC := $(wildcard tests/unit/test_*.c)
EXAMPLE_SRC := $(wildcard etc/examples/*.c)
# Helpers named lib*.c are LD_PRELOAD shims, built as shared objects.
HELPER_SO_SRC := $(wildcard tests/e2e/helpers/lib*.c)
HELPER_SRC := $(filter-out $(HELPER_SO_SRC),$(wildcard tests/e2e/helpers/*.c))

SDK_OBJ := $(SDK_SRC:%.c=$(BUILD)/%.o)
D_OBJ := $(D_SRC:%.c=$(BUILD)/%.o)
# The dashboard's files (supervisor/dashboard/), built into corrald as C
# arrays: index.html is served at /, the others at /NAME.
DASH_SRC := supervisor/dashboard/index.html \
	supervisor/dashboard/dashboard.css supervisor/dashboard/dashboard.js
DASH_OBJ := $(BUILD)/gen/dashboard.o
SOVERSION := 0

LIBCORRAL_A := $(BUILD)/libcorral.a
LIBCORRAL_SO := $(BUILD)/libcorral.so.$(SOVERSION)
LIBCORRALD_A := $(BUILD)/libcorrald.a
CORRALD := $(BUILD)/corrald
CORRALCTL := $(BUILD)/corralctl
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
EXAMPLE_BIN := $(EXAMPLE_SRC:etc/examples/%.c=$(BUILD)/examples/%)
HELPER_BIN := $(HELPER_SRC:tests/e2e/helpers/%.c=$(BUILD)/helpers/%)
HELPER_SO := $(HELPER_SO_SRC:tests/e2e/helpers/%.c=$(BUILD)/helpers/%.so)
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
# What bench_clone spawns: static, so that no loader blurs the spawn.
BENCH_STATIC := $(BUILD)/bench/exit_now $(BUILD)/bench/exec_helper
# The fuzzing harnesses (tests/fuzz/README.md): make check builds each with
# replay.c's main to replay its corpus; make fuzz builds each with libFuzzer.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
# The Node package @corral/langgraph (worker-sdk/node, docs/SDK.md): its
# files and its addon corral.node (libcorral linked in) in NODE_PKG.  A
# sanitized addon needs the sanitizers' runtime preloaded into node:
# tests/node/run.sh does it.
NODE_PKG := $(BUILD)/node/langgraph
NODE_FILES := package.json index.cjs index.mjs index.d.ts saver.cjs README.md
NODE_OUT := $(NODE_FILES:%=$(NODE_PKG)/%) $(NODE_PKG)/corral.node
# Where node_api.h is: Debian's libnode-dev, /usr/local, or beside the node
# on PATH (a tarball or nvm install).  Deferred: deps may install it.
NODE_BIN = $(realpath $(shell command -v node 2>/dev/null))
NODE_INC_DIRS = /usr/include/node /usr/local/include/node \
	$(if $(NODE_BIN),$(dir $(NODE_BIN))../include/node)
NODE_INC ?= $(patsubst %/node_api.h,%,$(firstword \
	$(wildcard $(NODE_INC_DIRS:%=%/node_api.h))))

.PHONY: all binaries deps run test check bench chaos fuzz fuzzers install \
	clean
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory binaries

binaries: $(CORRALD) $(CORRALCTL) $(LIBCORRAL_A) $(LIBCORRAL_SO) $(EXAMPLE_BIN) \
    $(NODE_OUT)

# Installs what pkg-config cannot find, with apt-get (sudo when not root);
# the end-to-end tests also read JSON with Debian's python3 and check the
# manual pages with mandoc, etc/deploy's manifests with yamllint (and its
# python3-yaml); make fuzz needs clang (its libFuzzer).  The
# Node package needs node and npm (Debian's nodejs, npm) and the Node-API
# headers (libnode-dev).  The tests run a PostgreSQL server of their own
# (Debian's postgresql: initdb and pg_ctl), and load the dashboard in
# headless Chromium through its WebDriver (chromium, chromium-driver).
# What only the tests and benchmarks need (python3, mandoc, yamllint,
# chromium, postgresql, cmocka) is installed for those goals alone: make
# and make run want the build's packages only.
TEST_GOALS := test check bench chaos fuzz
deps:
	@missing=""; \
	command -v pkg-config >/dev/null 2>&1 || missing="pkg-config"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	[ -n "$(NODE_INC)" ] || missing="$$missing libnode-dev"; \
	$(if $(filter fuzz,$(MAKECMDGOALS)),command -v $(FUZZ_CC) >/dev/null \
	    2>&1 || missing="$$missing clang";) \
	$(if $(filter $(TEST_GOALS),$(MAKECMDGOALS)), \
	[ -x /usr/bin/python3 ] || missing="$$missing python3"; \
	command -v mandoc >/dev/null 2>&1 || missing="$$missing mandoc"; \
	command -v yamllint >/dev/null 2>&1 || missing="$$missing yamllint"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || \
	    missing="$$missing chromium-driver"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	    missing="$$missing postgresql"; \
	pkg-config --exists cmocka 2>/dev/null || \
	    missing="$$missing libcmocka-dev";) \
	for p in libevent:libevent-dev sqlite3:libsqlite3-dev \
	    inih:libinih-dev libpq:libpq-dev; do \
		pkg-config --exists $${p%%:*} 2>/dev/null || \
		    missing="$$missing $${p#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo "; \
		echo "deps: missing:$$missing"; \
		echo "deps: installing them: $${sudo}apt-get update && $${sudo}apt-get install -y$$missing"; \
		$${sudo}apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $${sudo}apt-get install -y -q \
		    --no-install-recommends $$missing || \
		    { echo "deps: could not install:$$missing" >&2; exit 1; }; \
	fi

$(BUILD)/%.o: %.c worker-sdk/corral.h worker-sdk/store_impl.h \
    supervisor/corrald.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# Each file's bytes, written by od and sed (POSIX both): no xxd needed.
$(BUILD)/gen/dashboard.c: $(DASH_SRC) Makefile
	@mkdir -p $(dir $@)
	@{ echo '/* Generated by the Makefile from supervisor/dashboard/. */'; \
	echo '#include "corrald.h"'; i=0; \
	for f in $(DASH_SRC); do \
		echo "static const unsigned char f$$i[] = {"; \
		od -An -v -tx1 "$$f" | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
		echo '};'; i=$$((i + 1)); \
	done; \
	echo 'const struct dash_file dash_files[] = {'; i=0; \
	for f in $(DASH_SRC); do \
		n=$${f##*/}; [ "$$n" = index.html ] && n=; \
		echo "	{ \"/$$n\", f$$i, sizeof(f$$i) },"; i=$$((i + 1)); \
	done; \
	echo '};'; \
	echo 'const size_t dash_nfiles = sizeof(dash_files) / sizeof(dash_files[0]);'; \
	} >$@.tmp && mv $@.tmp $@

$(DASH_OBJ): $(BUILD)/gen/dashboard.c supervisor/corrald.h
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBCORRAL_A): $(SDK_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIBCORRAL_SO): $(SDK_OBJ)
	$(CC) -shared -Wl,-soname,libcorral.so.$(SOVERSION) $(ALL_LDFLAGS) \
	    -o $@ $^ $(SDK_LIBS)
	ln -sf libcorral.so.$(SOVERSION) $(BUILD)/libcorral.so

$(LIBCORRALD_A): $(D_OBJ) $(DASH_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(CORRALD): $(BUILD)/supervisor/corrald.o $(LIBCORRALD_A) $(LIBCORRAL_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(CORRALCTL): $(BUILD)/supervisor/corralctl.o $(LIBCORRALD_A) $(LIBCORRAL_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/tests/%: tests/unit/%.c $(LIBCORRALD_A) $(LIBCORRAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) \
	    $(CMOCKA_LIBS) $(PQ_LIBS) -lm

$(BUILD)/examples/%: etc/examples/%.c $(LIBCORRAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(SDK_LIBS)

$(NODE_PKG)/corral.node: worker-sdk/node/corral_node.c worker-sdk/corral.h \
    $(LIBCORRAL_A)
	@mkdir -p $(dir $@)
	@[ -n "$(NODE_INC)" ] || { echo "node_api.h not found (make deps" \
	    "installs libnode-dev; or NODE_INC=DIR)" >&2; exit 1; }
	$(CC) $(ALL_CFLAGS) -DNAPI_VERSION=8 -I$(NODE_INC) -shared \
	    $(ALL_LDFLAGS) -o $@ $< -Wl,--exclude-libs,ALL $(LIBCORRAL_A) \
	    $(SDK_LIBS)

$(NODE_PKG)/%: worker-sdk/node/%
	@mkdir -p $(dir $@)
	cp $< $@

# Benchmarks: built by make bench only, never sanitized.
$(BUILD)/bench/%: tests/bench/%.c $(LIBCORRAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(SDK_LIBS)

$(BUILD)/bench/exit_now $(BUILD)/bench/exec_helper: $(BUILD)/bench/%: \
    tests/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -static -o $@ $<

# bench_spawn's worker: no libcorral, static when the C library allows it
# (no dynamic loader in what is measured, for corrald and the bare loop
# alike).  bench_spawn itself needs nothing either.
$(BUILD)/bench/bench_worker: tests/bench/bench_worker.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) -static -o $@ $< 2>/dev/null || \
	    $(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) -o $@ $<

$(BUILD)/bench/bench_spawn: tests/bench/bench_spawn.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) -o $@ $<

# Test helpers are instruments, not subjects: never sanitized, so that a
# worker's SIGSEGV stays a SIGSEGV and their own exit is not judged.
$(BUILD)/helpers/%: tests/e2e/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# A shim is loaded into corrald, sanitized or not: it must bring no runtime.
$(BUILD)/helpers/%.so: tests/e2e/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -D_GNU_SOURCE $(CFLAGS) -fPIC -shared -o $@ $^

# The chaos run's agent (tests/chaos/agent.c): built as the examples are.
$(BUILD)/chaos/agent: tests/chaos/agent.c $(LIBCORRAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(SDK_LIBS)

# The chaos run (tests/chaos/README.md): about 2 minutes of faults against
# the real corrald.  SEED=N replays a run; CHAOS_ARGS=--short is the
# 35-second version.
SEED ?=
CHAOS_ARGS ?=
chaos: all
	@$(MAKE) --no-print-directory $(BUILD)/chaos/agent
	@/usr/bin/python3 tests/chaos/chaos.py --build $(BUILD) \
	    $(if $(SEED),--seed $(SEED)) $(CHAOS_ARGS)

# A harness with replay.c's main, built as everything else is (make check).
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h \
    $(LIBCORRALD_A) $(LIBCORRAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz $(ALL_LDFLAGS) -o $@ \
	    tests/fuzz/fuzz_$*.c tests/fuzz/replay.c $(LIBCORRALD_A) \
	    $(LIBCORRAL_A) $(PKG_LIBS) -lm

# The fuzzers (tests/fuzz/README.md): every object built again by clang with
# coverage and both sanitizers in FUZZ_BUILD, then each harness run for
# FUZZ_SECONDS (one core), new inputs merged into tests/fuzz/corpus/NAME.
# FUZZ_TARGETS=NAME... runs some of them.  Fails on any crash, leak or
# timeout, and names the input it left in FUZZ_BUILD/artifacts.
FUZZ_CC ?= clang
FUZZ_BUILD ?= build/libfuzzer
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(FUZZ_NAMES)
fuzz: deps
	@printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ return d == 0 && n; }\n' | \
	    $(FUZZ_CC) -x c -fsanitize=fuzzer - -o /dev/null 2>/dev/null || \
	    { echo "fuzz: $(FUZZ_CC) cannot link -fsanitize=fuzzer (libFuzzer:" \
	    "Debian's libclang-rt-dev, libclang-common-N-dev before clang 15)" >&2; \
	    exit 1; }
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) SAN=1 \
	    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" fuzzers
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Internal to make fuzz: the harnesses linked with libFuzzer's main.
fuzzers: $(FUZZ_NAMES:%=$(BUILD)/fuzzers/fuzz_%)

$(BUILD)/fuzzers/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h \
    $(LIBCORRALD_A) $(LIBCORRAL_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -fsanitize=fuzzer $(ALL_LDFLAGS) \
	    -o $@ tests/fuzz/fuzz_$*.c $(LIBCORRALD_A) $(LIBCORRAL_A) \
	    $(PKG_LIBS) -lm

# The example fleet, in the foreground; Ctrl-C stops it.  What a newcomer
# sees first is the fleet, not the compiler: the build's lines go to a log,
# shown only when it fails.  The tour names absolute paths, so that its
# commands work from any directory of another terminal.
RUN_LOG = $(BUILD)/make-run.log
RUN_BUILD = $(abspath $(BUILD))
RUN_DIR = $(RUN_BUILD)/run
run: deps
	@mkdir -p $(RUN_DIR)
	@echo "make run: building (compiler output in $(RUN_LOG)) ..."
	@$(MAKE) --no-print-directory binaries >$(RUN_LOG) 2>&1 || { \
	    cat $(RUN_LOG); \
	    echo "make run: the build failed: its output is above and in" \
	        "$(RUN_LOG)" >&2; exit 1; }
	@printf '%s\n' \
	    "" \
	    "corral: the example fleet etc/fleet.ini runs below; Ctrl-C stops it." \
	    "Here: corrald's log, the workers' errors and what 'unstable' says." \
	    "The other workers' steps go to $(RUN_DIR)/log/." \
	    "" \
	    "In another terminal, from any directory:" \
	    "" \
	    "    export PATH=\"$(RUN_BUILD):\$$PATH\" CORRAL_SOCKET=$(RUN_DIR)/corrald.sock" \
	    "    corralctl status              # each worker: state, pid, breaker" \
	    "    corralctl history unstable    # the crash-looping agent's runs" \
	    "    corralctl tail -f planner     # a worker's output as it comes" \
	    "    corralctl stop unstable       # stays stopped until 'start'" \
	    ""
	@cd $(RUN_DIR) && PATH="$(RUN_BUILD)/examples:$$PATH" \
	    exec $(RUN_BUILD)/corrald -c $(CURDIR)/etc/fleet.ini

# Builds one variant and runs every test against it.
check: binaries $(UNIT_BIN) $(HELPER_BIN) $(HELPER_SO) $(BUILD)/chaos/agent \
    $(REPLAY_BIN)
	@SAN=$(SAN) sh tests/run.sh $(BUILD)

test: deps
	@$(MAKE) --no-print-directory check BUILD=build
	@$(MAKE) --no-print-directory check BUILD=build/san SAN=1

VERSION := $(shell sed -n 's/^\#define CORRAL_VERSION "\(.*\)"/\1/p' worker-sdk/corral.h)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/corral/examples \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 755 $(CORRALD) $(DESTDIR)$(PREFIX)/bin/corrald
	install -m 755 $(CORRALCTL) $(DESTDIR)$(PREFIX)/bin/corralctl
	install -m 644 $(LIBCORRAL_A) $(DESTDIR)$(PREFIX)/lib/libcorral.a
	install -m 755 $(LIBCORRAL_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libcorral.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libcorral.so
	install -m 644 worker-sdk/corral.h $(DESTDIR)$(PREFIX)/include/corral.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    worker-sdk/corral.pc.in >$(DESTDIR)$(PREFIX)/lib/pkgconfig/corral.pc
	install -m 644 etc/fleet.ini etc/breakers.ini \
	    $(DESTDIR)$(PREFIX)/share/corral/examples/
	sed 's|/usr/local/bin/corrald|$(PREFIX)/bin/corrald|' etc/corrald.service \
	    >$(DESTDIR)$(PREFIX)/share/corral/examples/corrald.service
	install -m 755 $(EXAMPLE_BIN) $(DESTDIR)$(PREFIX)/share/corral/examples/
	install -m 644 docs/man/corralctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/corralctl.1
	install -m 644 docs/man/corral.ini.5 $(DESTDIR)$(PREFIX)/share/man/man5/corral.ini.5
	install -m 644 docs/man/corrald.8 $(DESTDIR)$(PREFIX)/share/man/man8/corrald.8
	install -m 644 etc/completion/corralctl.bash \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/corralctl
	install -m 644 etc/completion/_corralctl \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_corralctl

# Figures, not verdicts: each benchmark prints its measurements and a
# baseline taken in the same run.  bench_spawn comes last: it merges the
# figures bench_store and bench_langgraph.sh left in build/bench/store.figures
# into tests/bench/results.json (docs/PERFORMANCE.md).  bench_langgraph.sh
# installs tests/node's packages with better-sqlite3's native module.
BENCH_MAIN := build/bench/bench_worker build/bench/bench_spawn
bench: all
	@echo $$(date +%s) >build/bench-started
	@$(MAKE) --no-print-directory BUILD=build $(HELPER_BIN) $(HELPER_SO) \
	    $(BENCH_BIN:$(BUILD)/%=build/%) $(BENCH_STATIC:$(BUILD)/%=build/%)
	@mkdir -p build/bench/scratch
	@for b in $(filter-out $(BENCH_MAIN),$(BENCH_BIN:$(BUILD)/%=build/%)); do \
	    BENCH_FIGURES=build/bench/store.figures $$b build/bench/scratch || \
	    exit 1; done
	@for b in tests/bench/bench_*.sh; do BUILD=$(CURDIR)/build \
	    BENCH_FIGURES=$(CURDIR)/build/bench/store.figures sh $$b || \
	    exit 1; done
	@build/bench/bench_spawn build build/bench/scratch/spawn \
	    tests/bench/results.json build/bench/store.figures
	@echo "make bench: $$(( $$(date +%s) - $$(cat build/bench-started) )) s"

clean:
	rm -rf build
