# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# skiff: XDP program(s) -> libbpf skeleton -> skiffd/skiffctl, plus tests.
#   make            build everything (build/)
#   make SAN=1      same under AddressSanitizer/UBSan (build-san/)
#   make fuzz       libFuzzer harnesses (clang, build-fuzz/), FUZZ_SECONDS each
#   make test       unit + BPF + integration suites (needs root for the last two)
#   make demo       namespaces + veth + skiffd + traffic + stats
#   make bench      benchmarks against the kernel stack
#   make soak       mixed traffic through an impaired link, SOAK_SECS (1800) long (docs/soak.md)
#   make check-style   style gate, TCP's file layering (scripts/check-tcp-layers.sh)

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
SAN     ?= 0
WERROR  ?= 0

ifeq ($(FUZZ),1)
# libFuzzer build (tests/fuzz/, docs/fuzzing.md): everything instrumented
# for coverage, ASan and UBSan; only the harnesses link the fuzzer's main.
BUILD   ?= build-fuzz
CC      := $(CLANG)
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined
else ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD   ?= build
SANFLAGS :=
endif

ARCH    := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifeq ($(WERROR),1)
WARN    += -Werror
endif
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) $(SANFLAGS) -D_GNU_SOURCE -Iinclude -Iuser -I$(BUILD)
LDFLAGS += $(SANFLAGS)
LDLIBS  := $(shell pkg-config --libs libxdp libbpf 2>/dev/null || echo -lxdp -lbpf) -lelf -lz -lpthread \
	   -lcap-ng -lseccomp

# No -I/usr/include/<multiarch>: that directory is glibc's, and a BPF object
# must never reach glibc (which would ask for 32-bit stubs under -target bpf);
# bpf/include/asm maps the arch headers to asm-generic (docs/bpf-build.md).
BPF_CFLAGS := -target bpf -O2 -g -Wall -D__TARGET_ARCH_$(ARCH) -Iinclude -Ibpf/include

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

LIB_SRCS := $(wildcard user/core/*.c user/link/*.c user/net/*.c user/transport/*.c \
		       user/sock/*.c user/apps/*.c)
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
DEV_SRCS := $(wildcard user/dev/*.c)
DEV_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(DEV_SRCS))
CTL_SRCS := $(filter-out user/cmd/skiffd.c user/cmd/skiffctl.c user/cmd/app_host.c,$(wildcard user/cmd/*.c))
CTL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CTL_SRCS))

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
UNIT_SUPP  := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
UNIT_SOBJS := $(patsubst %.c,$(BUILD)/%.o,$(UNIT_SUPP))
BPFT_SRCS  := $(wildcard tests/bpf/test_*.c)
BPFT_BINS  := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPFT_SRCS))
# Standalone test tools (link impairment bridge...): one binary per file.
TOOL_SRCS  := $(wildcard tests/tools/*.c)
TOOL_BINS  := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRCS))
# libFuzzer harnesses: one binary per tests/fuzz/fuzz_*.c, built with FUZZ=1.
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,build-fuzz/tests/fuzz/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 60

.PHONY: all tools check-deps check-bpf-headers test unit bpf-test integration soak demo bench bench-bins check-style format clean \
	fuzz fuzz-bins
.DELETE_ON_ERROR:

all: check-deps $(BUILD)/skiffd $(BUILD)/skiffctl $(BPF_OBJS) tools applib

tools: $(TOOL_BINS)

check-deps:
	@scripts/check-deps.sh

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h bpf/include/asm/*.h include/skiff/*.h include/skiff/proto/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

# Only the loader and the BPF tests include generated skeletons.
$(DEV_OBJS) $(patsubst %.c,$(BUILD)/%.o,$(BPFT_SRCS)): $(SKELS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libskiff.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/skiffd: $(BUILD)/user/cmd/skiffd.o $(BUILD)/user/cmd/app_host.o $(DEV_OBJS) $(CTL_OBJS) $(BUILD)/libskiff.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/skiffctl: $(BUILD)/user/cmd/skiffctl.o $(CTL_OBJS) $(BUILD)/libskiff.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(UNIT_SOBJS) $(BUILD)/libskiff.a
	$(CC) $(LDFLAGS) -o $@ $(filter-out %.a,$^) $(BUILD)/libskiff.a -lcmocka $(LDLIBS)

# test_config, test_control and test_kports also link the cmd/ objects (parsing, control,
# report) they test.
$(BUILD)/tests/unit/test_config $(BUILD)/tests/unit/test_control $(BUILD)/tests/unit/test_kports: $(CTL_OBJS)
# test_cmsg tests libskiffapp's control messages (pure functions, no region).
$(BUILD)/tests/unit/test_cmsg: $(BUILD)/pic/user/lib/cmsg.o

$(BUILD)/tests/bpf/%: $(BUILD)/tests/bpf/%.o $(BUILD)/libskiff.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/bench/bench_stack: $(BUILD)/bench/bench_stack.o $(UNIT_SOBJS) $(BUILD)/libskiff.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(BUILD)/bench/bench_conns: $(BUILD)/bench/bench_conns.o $(UNIT_SOBJS) $(BUILD)/libskiff.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(BUILD)/bench/bench_bulk: $(BUILD)/bench/bench_bulk.o $(UNIT_SOBJS) $(BUILD)/libskiff.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(BUILD)/bench/bench_txn: $(BUILD)/bench/bench_txn.o $(UNIT_SOBJS) $(BUILD)/libskiff.a
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(BUILD)/bench/%.o: CFLAGS += -Itests/unit

# Kernel-socket servers and load of the end-to-end comparison (no libskiff).
E2E_BENCH := $(BUILD)/bench/bench_kserver $(BUILD)/bench/bench_load
$(E2E_BENCH): $(BUILD)/bench/%: $(BUILD)/bench/%.o
	$(CC) $(LDFLAGS) -o $@ $^

# Harnesses link the unit tests' fake driver and harness, and the cmd/ parsers.
$(BUILD)/tests/fuzz/%: $(BUILD)/tests/fuzz/%.o $(UNIT_SOBJS) $(CTL_OBJS) $(BUILD)/libskiff.a
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ -lcmocka $(LDLIBS)

$(BUILD)/tests/fuzz/%.o: CFLAGS += -Itests/unit
# fuzz_xdp runs the real XDP object through its skeleton
$(BUILD)/tests/fuzz/fuzz_xdp.o: $(SKELS)

# Packet-rate flood (bench/flood.c): a live-frames generator and a reply
# counter in BPF, each with its own skeleton under $(BUILD)/bench/.
FLOOD_BPF := $(BUILD)/bench/flood_gen.bpf.o $(BUILD)/bench/flood_count.bpf.o
$(FLOOD_BPF): $(BUILD)/bench/%.bpf.o: bench/%.bpf.c bench/flood.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(BUILD)/bench/flood_gen.skel.h $(BUILD)/bench/flood_count.skel.h: $(BUILD)/bench/%.skel.h: $(BUILD)/bench/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@
$(BUILD)/bench/flood.o: $(BUILD)/bench/flood_gen.skel.h $(BUILD)/bench/flood_count.skel.h
$(BUILD)/bench/flood: $(BUILD)/bench/flood.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libskiffapp: the application library (include/skiff/skiff_socket.h,
# docs/apps.md), position-independent with only the skiff_* calls exported;
# skiff.pc for pkg-config; the example programs link it from the build tree.
# (build/libskiff.a above is the daemon's internals, for the tests.)
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
APPLIB_SRCS := $(wildcard user/lib/*.c)
APPLIB_OBJS := $(patsubst %.c,$(BUILD)/pic/%.o,$(APPLIB_SRCS))
APPLIB_SO   := $(BUILD)/lib/libskiffapp.so
APPLIB_A    := $(BUILD)/lib/libskiffapp.a
APP_HDRS    := include/skiff/skiff_socket.h include/skiff/app_shm.h
EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLE_BINS := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EXAMPLE_SRCS))
APPTEST_SRCS := $(wildcard tests/apps/*.c)
APPTEST_BINS := $(patsubst tests/apps/%.c,$(BUILD)/tests/apps/%,$(APPTEST_SRCS))

# skiff-run (docs/skiff-run.md): the LD_PRELOAD library, libskiffapp's
# objects linked in, and its launcher in bin/ (it finds ../lib/ beside it).
# The library runs inside foreign programs: with SAN=1 it is built with
# UBSan only (ASan would have to be preloaded before it into every program,
# and some, curl among them, deadlock under ASan's interceptors).
BINDIR  ?= $(PREFIX)/bin
PRELOAD_SRCS := $(filter-out user/preload/skiff_run.c,$(wildcard user/preload/*.c))
PRELOAD_OBJS := $(patsubst %.c,$(BUILD)/preload/%.o,$(PRELOAD_SRCS))
PRELOAD_LIBA := $(BUILD)/preload/libskiffapp-preload.a
PRELOAD_SO   := $(BUILD)/lib/libskiff-preload.so
SKIFF_RUN    := $(BUILD)/bin/skiff-run
PRELOAD_SAN  := $(if $(filter 1,$(SAN)),-fsanitize=undefined -fno-sanitize-recover=undefined)
PRELOAD_CFLAGS := $(filter-out $(SANFLAGS),$(CFLAGS)) $(PRELOAD_SAN)

.PHONY: applib install preload
applib: $(APPLIB_SO) $(APPLIB_A) $(BUILD)/lib/skiff.pc $(EXAMPLE_BINS) $(APPTEST_BINS) preload
preload: $(PRELOAD_SO) $(SKIFF_RUN)

$(BUILD)/preload/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(PRELOAD_CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

$(PRELOAD_LIBA): $(patsubst %.c,$(BUILD)/preload/%.o,$(APPLIB_SRCS))
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

# libskiffapp's calls stay private (--exclude-libs): the library exports the
# interposed POSIX names only.
$(PRELOAD_SO): $(PRELOAD_OBJS) $(PRELOAD_LIBA)
	@mkdir -p $(@D)
	$(CC) $(PRELOAD_SAN) -shared -o $@ $(PRELOAD_OBJS) $(PRELOAD_LIBA) -Wl,--exclude-libs,ALL \
		-ldl -lpthread

$(SKIFF_RUN): user/preload/skiff_run.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -ldl

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

$(APPLIB_SO): $(APPLIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libskiffapp.so.0 -o $@.0 $^ -lpthread
	ln -sf libskiffapp.so.0 $@

$(APPLIB_A): $(APPLIB_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BUILD)/lib/skiff.pc: scripts/skiff.pc.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' $< > $@

$(BUILD)/examples/%: examples/%.c $(APPLIB_SO) $(APP_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -L$(BUILD)/lib -Wl,-rpath,'$$ORIGIN/../lib' -lskiffapp

# Programs the integration tests run against libskiffapp (test_apps.py).
$(BUILD)/tests/apps/%: tests/apps/%.c tests/apps/check.h $(APPLIB_SO) $(APP_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -L$(BUILD)/lib -Wl,-rpath,'$$ORIGIN/../../lib' -lskiffapp

install: applib
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/skiff
	install -m 0755 $(APPLIB_SO).0 $(DESTDIR)$(LIBDIR)/
	ln -sf libskiffapp.so.0 $(DESTDIR)$(LIBDIR)/libskiffapp.so
	install -m 0644 $(APPLIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(APP_HDRS) $(DESTDIR)$(INCDIR)/skiff/
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(PRELOAD_SO) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(SKIFF_RUN) $(DESTDIR)$(BINDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
		scripts/skiff.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/skiff.pc

unit-bins: $(UNIT_BINS)
bpf-test-bins: $(BPFT_BINS) $(BPF_OBJS)

# The suites; scripts/test.sh runs them all and prints the summary line.
# test and demo install missing Debian packages themselves (scripts/deps.sh).
test:
	@scripts/test.sh

unit: check-deps $(UNIT_BINS)
	@scripts/test.sh unit

bpf-test: check-deps $(BPFT_BINS) $(BPF_OBJS)
	@scripts/test.sh bpf

integration: all
	@scripts/test.sh integration

fuzz-bins:
	@scripts/check-deps.sh fuzz
	$(MAKE) FUZZ=1 $(FUZZ_BINS)

# Replay the regression inputs, then fuzz each target for FUZZ_SECONDS.
fuzz: check-deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/test.sh fuzz

demo:
	@scripts/demo.sh

# Mixed traffic through the impaired relay with a skiffd SIGKILL and restart
# halfway (tests/soak/soak.py, docs/soak.md); scripts/test.sh runs 180 s.
SOAK_SECS ?= 1800
soak:
	@SOAK_SECS=$(SOAK_SECS) SAN=$(SAN) scripts/test.sh soak

# What scripts/bench.sh runs (it builds them itself when BUILD is not given).
bench-bins: all tools $(BUILD)/bench/bench_stack $(BUILD)/bench/bench_conns $(BUILD)/bench/bench_bulk \
	$(BUILD)/bench/bench_txn $(E2E_BENCH) \
	$(BUILD)/bench/flood

bench: bench-bins
	@scripts/bench.sh

# The TCP layering check reads the objects' symbols (nm): build them first.
TCP_OBJS := $(filter $(BUILD)/user/transport/tcp%.o,$(LIB_OBJS))
check-style: $(TCP_OBJS)
	@scripts/check-style.sh
	@scripts/check-tcp-layers.sh $(BUILD)

# No *.bpf.c may include a header that reaches glibc (docs/bpf-build.md).
check-bpf-headers:
	@scripts/check-bpf-headers.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

compile_commands.json:
	bear -- $(MAKE) -B all unit-bins bpf-test-bins

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
