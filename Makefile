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
#   make lint       cppcheck and clang-tidy over lib/ and cmd/
#   make check-valgrind  the pipeline tests under valgrind (slow)
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

# Helpers of tests/t1000-faults.sh: an LD_PRELOAD shim of short reads and
# writes (no sanitizer flags: it is preloaded into the programs) and a
# maker of hostile streams.
TEST_HELPERS := $(O)/tests/shim-shortio.so $(O)/tests/craft-stream

$(O)/tests/shim-shortio.so: tests/shim-shortio.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -fPIC -shared -o $@ $< -ldl

$(O)/tests/craft-stream: $(O)/tests/craft-stream.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS)

check-shell: all $(TEST_HELPERS)
	@SHD_BUILD=$(abspath $(O)) sh tests/run-shell.sh

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	    -fno-sanitize-recover=all
check-san:
	$(MAKE) O=build-san CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" \
		WERROR=$(WERROR) check-unit check-shell
asan ubsan: check-san

# The pipeline tests with every shd-* under valgrind's memcheck (about 35
# minutes on one core, 16 with VALGRIND_JOBS=2, two tests at a time; not
# part of check). VALGRIND_LEAK=full also fails on definite leaks. t0810
# and t1000 skip.
VALGRIND_JOBS ?= 1
VALGRIND_LEAK ?= no
.PHONY: check-valgrind
check-valgrind: all $(TEST_HELPERS)
	@SHD_BUILD=$(abspath $(O)) VALGRIND_JOBS=$(VALGRIND_JOBS) \
	  VALGRIND_LEAK=$(VALGRIND_LEAK) sh tests/run-valgrind.sh

golden: all
	SHD_BUILD=$(abspath $(O)) SHD_GOLDEN_UPDATE=1 sh tests/run-shell.sh

# --------------------------------------------------------------- fuzzing

FUZZ_CC ?= clang
FUZZ_O ?= build-fuzz
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	     -fno-sanitize-recover=all
# The parsers' library: all of lib/ but the LSTM engine and its trainer
# (clang takes many minutes over their vector kernels with both sanitizers;
# the unit tests run them under ASan+UBSan). The model loader needs the
# engine's sizes and allocation only: lstm.c goes in uninstrumented.
# One target: make fuzz FUZZ_SRC=tests/fuzz-model.c; FUZZ_O: its build dir
FUZZ_LIB_OBJ := $(filter-out $(FUZZ_O)/lib/lstm.o $(FUZZ_O)/lib/train.o, \
		  $(LIB_SRC:%.c=$(FUZZ_O)/%.o)) $(FUZZ_O)/lstm-plain.o
$(FUZZ_O)/lstm-plain.o: lib/lstm.c lib/lstm.h lib/rng.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) -g -O1 -c -o $@ lib/lstm.c
fuzz:
	@$(MAKE) --no-print-directory O=$(FUZZ_O) CC=$(FUZZ_CC) \
	  CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
	  $(FUZZ_LIB_OBJ)
	@rm -f $(FUZZ_O)/libfuzz.a && $(AR) rcs $(FUZZ_O)/libfuzz.a $(FUZZ_LIB_OBJ)
	@set -e; for f in $(FUZZ_SRC); do \
	  n=$$(basename $$f .c); \
	  echo "# $$n ($(FUZZ_SECONDS) s)"; \
	  $(FUZZ_CC) -std=c11 -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) $(FUZZ_FLAGS) \
	    -o $(FUZZ_O)/$$n $$f $(FUZZ_O)/libfuzz.a $(LIBS); \
	  mkdir -p $(FUZZ_O)/corpus-$$n; \
	  $(FUZZ_O)/$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -timeout=10 -rss_limit_mb=2048 -artifact_prefix=$(FUZZ_O)/$$n- \
	    $(FUZZ_O)/corpus-$$n \
	    $$(ls -d tests/corpus/$${n#fuzz-} 2>/dev/null) || exit 1; \
	done

# ------------------------------------------------------- static analysis

# make lint: cppcheck and clang-tidy over lib/ and cmd/, both clean. A
# finding is fixed, or suppressed on its line with the reason beside it
# ("cppcheck-suppress ID", "NOLINT(check)"). Not part of check; CI runs it
# after check (.ci/run), with the tools from scripts/deps (Debian packages
# cppcheck and clang-tidy).
CPPCHECK ?= cppcheck
CLANG_TIDY ?= clang-tidy
LINT_SRC := $(LIB_SRC) $(sort $(wildcard cmd/*.c))
# cppcheck 2.10 does not know C11 _Noreturn: without the -D every
# "if (!p) cli_die(...)" is a possible null pointer dereference after it.
CPPCHECK_FLAGS = --std=c11 --enable=warning,portability,performance \
	--error-exitcode=1 --inline-suppr --quiet \
	--suppress=missingIncludeSystem -D_GNU_SOURCE \
	'-D_Noreturn=__attribute__((noreturn))' \
	--template='{file}:{line}: {severity}: {message} [{id}]'
# The checks: bugprone, CERT (its C rules), the clang static analyzer,
# misc, performance and portability, less these:
#   easily-swappable-parameters: the argument order is STYLE.md's (outputs,
#     inputs, params, sizes); 190 neighbours of one type are by design
#   cert-err33-c: printf-family results unchecked; stdout is checked once,
#     at its close (sbase fshut), messages are allowed to truncate
#   insecureAPI.DeprecatedOrUnsafeBufferHandling: wants Annex K memcpy_s
#     and snprintf_s, which glibc has not
#   macro-parentheses: lstm.c's kernel macros paste names and types
#   suspicious-string-compare: "!strcmp(a, b)" is the house idiom
#   narrowing-conversions, implicit-widening-of-multiplication-result:
#     int to char from <ctype.h>, counts to double, small int products
#     widened; -Wconversion would be the tool, and it is not one we use
#   misc-no-recursion: the JSON and YAML walkers recurse, bounded by the
#     parsers' depth limits
TIDY_CHECKS = -*,bugprone-*,cert-*,clang-analyzer-*,misc-*,performance-*,\
portability-*,-bugprone-easily-swappable-parameters,-cert-err33-c,\
-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,\
-bugprone-macro-parentheses,-bugprone-suspicious-string-compare,\
-bugprone-narrowing-conversions,\
-bugprone-implicit-widening-of-multiplication-result,-misc-no-recursion
.PHONY: lint lint-cppcheck lint-tidy
lint: lint-cppcheck lint-tidy
lint-cppcheck:
	$(CPPCHECK) $(CPPCHECK_FLAGS) -Ilib -Icmd \
	  $(filter -I%,$(PKG_CFLAGS)) lib cmd
# one target a file, so that make -j runs them side by side (-k: all
# findings, not the first file's)
TIDY_TARGETS := $(LINT_SRC:%=tidy/%)
.PHONY: $(TIDY_TARGETS)
lint-tidy: $(TIDY_TARGETS)
$(TIDY_TARGETS): tidy/%:
	@$(CLANG_TIDY) --quiet --warnings-as-errors='*' \
	  --checks='$(TIDY_CHECKS)' $* -- -std=c11 -D_GNU_SOURCE -Ilib \
	  -Icmd $(PKG_CFLAGS) 2>/dev/null

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

# the chain on a synthetic fleet of 1,000 and 10,000 resources x 4 weeks:
# per stage throughput, peak memory and scaling; the cron path (~15 min)
.PHONY: bench-fleet
bench-fleet: all
	sh scripts/bench-fleet

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
