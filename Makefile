# shd - one Makefile builds everything.
#
#   make            build lib/libshd.a and every shd-* program into $(O)/
#   make check      unit tests and pipeline tests, then the same under
#                   ASan+UBSan (in build-san/)
#   make demo       install what is missing, build, run the sample pipeline
#   make bench      throughput and size measurements (scripts/bench)
#   make bench-train  LSTM training speed against PyTorch (scripts/bench-train)
#   make bench-replay shd's policy against others on Bitbrains (scripts/bench-replay)
#   make bench-shadow a model of a 10% shadow against one of the whole fleet
#   make fuzz       each fuzz target for FUZZ_SECONDS (clang, libFuzzer)
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean
#
# CC, CFLAGS, LDFLAGS, PREFIX, DESTDIR and O may be overridden.  WERROR=1
# (set by CI) turns warnings into errors.

O ?= build
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS = libarchive libzstd jansson libxxhash lapacke openblas libcrypto

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wformat=2 -Wvla -Wno-format-nonliteral
ifeq ($(WERROR),1)
WARN += -Werror
endif
CFLAGS ?= -O2 -g
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) \
	     -Ilib $(PKG_CFLAGS)
LIBS = $(PKG_LIBS) -lm -lpthread

LIB_SRC := $(sort $(wildcard lib/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
LIB := $(O)/libshd.a

CMD_SRC := $(sort $(wildcard cmd/shd-*.c))
CMDS := $(CMD_SRC:cmd/%.c=$(O)/%)
CLI_OBJ := $(O)/cli.o

UNIT_SRC := $(sort $(wildcard tests/unit-*.c))
UNITS := $(UNIT_SRC:%.c=$(O)/%)

TOOL_SRC := $(sort $(wildcard scripts/*.c))
TOOLS := $(TOOL_SRC:scripts/%.c=$(O)/tools/%)

FUZZ_SRC := $(sort $(wildcard tests/fuzz-*.c))
FUZZ_SECONDS ?= 10

MAN1 := $(sort $(wildcard man/*.1))
MAN5 := $(sort $(wildcard man/*.5))

.SECONDARY:

.PHONY: all check check-unit check-shell check-san asan ubsan demo bench \
	bench-train fuzz install uninstall clean golden

all: $(LIB) $(CMDS) $(TOOLS)

$(O)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(O)/%.o: cmd/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/shd-%: $(O)/shd-%.o $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(CLI_OBJ) $(LIB) $(LIBS)

$(O)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -MMD -MP -c -o $@ $<

$(O)/tests/unit-%: $(O)/tests/unit-%.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(O)/tools/%.o: scripts/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/tools/%: $(O)/tools/%.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

-include $(LIB_OBJ:.o=.d) $(CMD_SRC:cmd/%.c=$(O)/%.d) $(O)/cli.d \
	 $(UNIT_SRC:%.c=$(O)/%.d) $(TOOL_SRC:scripts/%.c=$(O)/tools/%.d)

# ----------------------------------------------------------------- tests

check: check-unit check-shell check-san

check-unit: $(UNITS)
	@pass=0; fail=0; for t in $(UNITS); do echo "# $$t"; \
	  if $$t; then pass=$$((pass + 1)); else fail=$$((fail + 1)); fi; \
	done; echo "unit: $$pass passed, $$fail failed"; [ $$fail = 0 ]

check-shell: all
	@SHD_BUILD=$(abspath $(O)) sh tests/run-shell.sh

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	    -fno-sanitize-recover=all
check-san:
	$(MAKE) O=build-san CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" \
		WERROR=$(WERROR) check-unit check-shell
asan ubsan: check-san

golden: all
	SHD_BUILD=$(abspath $(O)) SHD_GOLDEN_UPDATE=1 sh tests/run-shell.sh

# --------------------------------------------------------------- fuzzing

FUZZ_CC ?= clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	     -fno-sanitize-recover=all
# The parsers' library: all of lib/ but the LSTM engine and its trainer,
# which no fuzz target reaches (clang takes many minutes over their vector
# kernels with both sanitizers; the unit tests run them under ASan+UBSan).
FUZZ_LIB_OBJ := $(filter-out build-fuzz/lib/lstm.o build-fuzz/lib/train.o, \
		  $(LIB_SRC:%.c=build-fuzz/%.o))
fuzz:
	@$(MAKE) --no-print-directory O=build-fuzz CC=$(FUZZ_CC) \
	  CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
	  $(FUZZ_LIB_OBJ)
	@rm -f build-fuzz/libfuzz.a && $(AR) rcs build-fuzz/libfuzz.a $(FUZZ_LIB_OBJ)
	@set -e; for f in $(FUZZ_SRC); do \
	  n=$$(basename $$f .c); \
	  echo "# $$n ($(FUZZ_SECONDS) s)"; \
	  $(FUZZ_CC) -std=c11 -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) $(FUZZ_FLAGS) \
	    -o build-fuzz/$$n $$f build-fuzz/libfuzz.a $(LIBS); \
	  mkdir -p build-fuzz/corpus-$$n; \
	  build-fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -timeout=10 -rss_limit_mb=2048 build-fuzz/corpus-$$n \
	    tests/corpus/$${n#fuzz-} || exit 1; \
	done

# -------------------------------------------------------- demo and bench

demo:
	sh scripts/deps
	$(MAKE) all
	SHD_BUILD=$(abspath $(O)) sh scripts/demo

bench: all
	sh scripts/bench

# forecast accuracy against baselines and peers on ../shared/data (~20 min)
.PHONY: bench-forecast
bench-forecast: all
	sh scripts/bench-forecast

# drift alerts of shd-drift on ../shared/data: NAB scores, held-out filter,
# Bitbrains lead time (~1.5 min)
.PHONY: bench-drift
bench-drift: all
	sh scripts/bench-drift

.PHONY: bench-replay
bench-replay: all
	sh scripts/bench-replay

.PHONY: bench-shadow
bench-shadow: all
	sh scripts/bench-shadow

bench-train: all
	sh scripts/bench-train

# ------------------------------------------------------------- install

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5
	cp -f $(CMDS) $(DESTDIR)$(BINDIR)/
	cp -f $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	cp -f $(MAN5) $(DESTDIR)$(MANDIR)/man5/

uninstall:
	rm -f $(CMDS:$(O)/%=$(DESTDIR)$(BINDIR)/%) \
	      $(MAN1:man/%=$(DESTDIR)$(MANDIR)/man1/%) \
	      $(MAN5:man/%=$(DESTDIR)$(MANDIR)/man5/%)

clean:
	rm -rf build build-san build-fuzz
