# sluice — build, test, demo.
#
#   make            build/sluice (optimised)
#   make test       install what is missing, build, run every test (ASan + UBSan build)
#   make demo       install, build, run the whole pipeline on apps/game.yaml, show query results
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS each (default 60)
#   make bench      build the benchmark programs under bench/
#
# Sources are found by wildcard: every src/<component>/*.c is part of the program, every
# tests/unit/test_*.c is a unit-test binary, every tests/fuzz/fuzz_*.c a libFuzzer target.

BUILD     ?= build
DEPS      := .deps
DUCKDB    := $(DEPS)/duckdb
PKGS      := libh2o-evloop rdkafka yaml-0.1 libedit openssl zlib snappy libzstd

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CC        ?= cc
V         ?= 0
ifeq ($(V),0)
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
else
Q :=
say :=
endif
WARN      := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
BASEFLAGS := -std=c11 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -g -pthread -MMD -MP \
             -Isrc -I$(DUCKDB)/include $(WARN)
OPTFLAGS  := -O2
SANFLAGS  := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDLIBS    = $(PKG_LIBS) -L$(abspath $(DUCKDB)/lib) -lduckdb -Wl,-rpath,$(abspath $(DUCKDB)/lib) -lm -lpthread

SRCS      := $(wildcard src/*.c src/*/*.c)
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
TEST_SRCS := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRCS:= $(wildcard bench/*.c)

# Two flavours: $(BUILD)/ (optimised) and $(BUILD)/asan/ (sanitizers, used by the tests).
OBJ       := $(patsubst %.c,$(BUILD)/obj/%.o,$(SRCS))
LIB_OBJ   := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
AOBJ      := $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(SRCS))
ALIB_OBJ  := $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(LIB_SRCS))
TESTS     := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(TEST_SRCS))
FUZZERS   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FOBJ      := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRCS))
BENCHES   := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.SECONDARY:
.PHONY: all deps test unit asan fuzz fuzz-smoke bench demo clean distclean
all: $(BUILD)/sluice

deps:
	@bash scripts/deps.sh

$(BUILD)/sluice: $(OBJ)
	$(call say,LINK,$@)$(CC) -pthread -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(BASEFLAGS) $(OPTFLAGS) $(PKG_CFLAGS) -c $< -o $@

asan: $(BUILD)/asan/sluice $(TESTS)

$(BUILD)/asan/sluice: $(AOBJ)
	$(call say,LINK,$@)$(CC) -pthread $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,'$< [asan]')$(CC) $(BASEFLAGS) $(SANFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/asan/tests/%: tests/unit/%.c $(ALIB_OBJ) tests/unit/test.h
	@mkdir -p $(dir $@)
	$(call say,TEST,$@)$(CC) $(BASEFLAGS) $(SANFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(ALIB_OBJ) $(LDLIBS)

# libFuzzer targets: clang, every module compiled with coverage instrumentation.
FUZZCC    := clang
FUZZFLAGS := -std=c11 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -g -O1 -pthread -Isrc -I$(DUCKDB)/include \
             -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,'$< [fuzz]')$(FUZZCC) $(FUZZFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FOBJ)
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$@)$(FUZZCC) $(FUZZFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< $(FOBJ) $(LDLIBS)

FUZZ_SECONDS ?= 60
fuzz: $(FUZZERS)
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

fuzz-smoke: $(FUZZERS)

$(BUILD)/bench/%: bench/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(call say,BENCH,$@)$(CC) $(BASEFLAGS) $(OPTFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

bench: deps $(BUILD)/sluice $(BENCHES)

# The whole suite: unit tests, black-box tests against the real binary, brief fuzzing.
test: deps
	@$(MAKE) --no-print-directory -j2 $(BUILD)/sluice asan fuzz-smoke
	@bash tests/run.sh $(BUILD)

unit: asan
	@bash tests/run.sh $(BUILD) unit

demo: deps
	@$(MAKE) --no-print-directory -j2 $(BUILD)/sluice
	@bash scripts/demo.sh $(BUILD)/sluice

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -rf $(DEPS)

-include $(OBJ:.o=.d) $(AOBJ:.o=.d) $(FOBJ:.o=.d)
