# proclab - a process-lifecycle lab bench.
#
#   make              build ./proclab and build/examples/ (proclab run)
#   make check        build and run the tests (Check)
#   make golden       rewrite tests/golden/ (--stable output of every lab)
#   make bench        measure the observer (prints `name value` lines)
#   make stress       kill every lab at random moments, count survivors;
#                     run every lab STRESS_RUNS times, same lesson each?
#                     (STRESS_TRIALS=320 STRESS_RUNS=200 by default);
#                     every lab as PID 1, under strace -f, at low
#                     limits (STRESS_WHERE=3)
#   make valgrind     every lab and the unit tests under valgrind memcheck
#   make deps         install the Debian packages the build needs
#   make install      PREFIX=/usr/local DESTDIR= (also: uninstall)
#   make pot          regenerate po/proclab.pot (and merge po/*.po)
#   make SANITIZE=1   build with ASan+UBSan, under build-san/
#   make fuzz         fuzz the /proc parsers and string writers (clang's
#                     libFuzzer, under build-fuzz/), FUZZ_SECONDS=20 each
#   make V=1          show the commands

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/proclab
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
LOCALEDIR   ?= $(PREFIX)/share/locale
DOCS    := README.md $(wildcard docs/*.md labs/*.md)

PKG_CONFIG ?= pkg-config
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wformat=2 -Wno-format-nonliteral

BSD_CFLAGS   := $(shell $(PKG_CONFIG) --cflags libbsd-overlay 2>/dev/null)
BSD_LIBS     := $(shell $(PKG_CONFIG) --libs libbsd-overlay 2>/dev/null)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
# jansson parses the labs' JSON for `proclab claims --check`
JSON_CFLAGS  := $(shell $(PKG_CONFIG) --cflags jansson 2>/dev/null)
JSON_LIBS    := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null)
# for --version: what the binary was built with (Check: its tests)
BSD_VERSION   := $(shell $(PKG_CONFIG) --modversion libbsd-overlay 2>/dev/null)
CHECK_VERSION := $(shell $(PKG_CONFIG) --modversion check 2>/dev/null)

ifdef SANITIZE
BUILD   := build-san
PROG    := $(BUILD)/proclab
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all
else
BUILD   := build
PROG    := proclab
SAN     :=
endif

# Translations (po/LINGUAS): each .mo goes to a locale/ beside the binary,
# where proclab looks first (src/i18n.c), and `make install` copies it
LINGUAS := $(shell cat po/LINGUAS)
MO      := $(LINGUAS:%=$(dir $(PROG))locale/%/LC_MESSAGES/proclab.mo)
# the functions whose argument is a message (i18n.h); the tables are
# listed by po/tables.c
XGETTEXT_KEYWORDS := -k_ -kN_ -kerr:2 -kerrx:2 -kwarn:1 -kwarnx:1 \
	-kpl_fail:2 -kpl_unavailable:2 -kpl_warnx:2 -kpl_sys_error:4 \
	-kobs_await:4 -kobs_await_exec:5 -kobs_await_or_not:4 \
	-kobs_show_all:2 -kobs_sample:4 -kemit_state:5 -kstage:3 -kflag:3 -kusage_error:1 \
	--flag=pl_fail:2:c-format --flag=pl_unavailable:2:c-format \
	--flag=pl_warnx:2:c-format --flag=pl_sys_error:4:c-format \
	--flag=errx:2:c-format --flag=err:2:c-format \
	--flag=warnx:1:c-format --flag=warn:1:c-format --flag=flag:3:c-format --flag=usage_error:1:c-format

ALL_CFLAGS  = -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude $(BSD_CFLAGS) $(JSON_CFLAGS) $(SAN) $(CFLAGS) \
	      $(CPPFLAGS) $(MAIN_DEFS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)
# the thread lab's agents call pthread_create (in libc since glibc 2.34)
ALL_CFLAGS  += -pthread
ALL_LDFLAGS += -pthread

ENGINE_SRC := $(wildcard src/*.c)
LAB_SRC    := $(wildcard labs/*.c)
TEST_SRC   := $(wildcard tests/test_*.c) tests/check_main.c tests/testutil.c
BENCH_SRC  := tests/bench.c
STRESS_SRC := tests/stress.c tests/testutil.c
# small programs to run under `proclab run` (examples/README.md)
EXAMPLE_SRC := $(wildcard examples/*.c)
EXAMPLES    := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EXAMPLE_SRC))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIB_OBJ   := $(call obj,$(filter-out src/main.c,$(ENGINE_SRC)) $(LAB_SRC))
MAIN_OBJ  := $(call obj,src/main.c)
TEST_OBJ  := $(call obj,$(TEST_SRC))
BENCH_OBJ := $(call obj,$(BENCH_SRC))
STRESS_OBJ := $(call obj,$(STRESS_SRC))

$(BUILD)/src/i18n.o: MAIN_DEFS = -DPROCLAB_LOCALEDIR='"$(LOCALEDIR)"'
$(MAIN_OBJ): MAIN_DEFS = -DPROCLAB_LIBBSD_VERSION='"$(BSD_VERSION)"' \
		    -DPROCLAB_CHECK_VERSION='"$(CHECK_VERSION)"'

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

.PHONY: all check bench stress valgrind deps install uninstall clean \
	have-deps fuzz have-fuzzer golden examples pot
all: $(PROG) examples $(MO)

examples: $(EXAMPLES)

# plain C11, no library, no sanitizer (LeakSanitizer cannot run traced):
# what a student would compile
$(BUILD)/examples/%: examples/%.c Makefile
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) \
		$(LDFLAGS) -o $@ $<

have-deps:
	@$(PKG_CONFIG) --exists libbsd-overlay check jansson 2>/dev/null && \
	  command -v msgfmt >/dev/null || { \
	  echo "proclab needs libbsd-dev, libjansson-dev, check, pkgconf and gettext: run 'make deps'" >&2; \
	  exit 1; }

$(PROG): $(MAIN_OBJ) $(LIB_OBJ) | have-deps
	$(call say,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BSD_LIBS) $(JSON_LIBS)

# -lutil: forkpty(), to run the labs in a terminal of a given width
$(BUILD)/check_proclab: $(TEST_OBJ) $(LIB_OBJ)
	$(call say,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(BSD_LIBS) $(JSON_LIBS) -lutil

$(BUILD)/bench: $(BENCH_OBJ) $(LIB_OBJ)
	$(call say,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BSD_LIBS) $(JSON_LIBS)

$(BUILD)/stress: $(STRESS_OBJ) $(LIB_OBJ)
	$(call say,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(BSD_LIBS) $(JSON_LIBS) -lutil

$(BUILD)/tests/%.o: tests/%.c Makefile | have-deps
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.c Makefile | have-deps
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# msgfmt --check: formats match, the header is whole
$(dir $(PROG))locale/%/LC_MESSAGES/proclab.mo: po/%.po | have-deps
	@mkdir -p $(dir $@)
	$(call say,MSGFMT,$<)msgfmt --check -o $@ $<

# a Chinese man page: groff 1.22 breaks lines only at spaces, so a
# break point (\:) goes after each Chinese character of the text lines,
# except before closing punctuation
$(BUILD)/man/%/proclab.1: man/%/proclab.1
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)LC_ALL=C.UTF-8 sed -E '/^[.'"'"']/!{s/([^ -~])/\1\\:/g; s/\\:([，。、；：！？）」』》”’])/\1/g}' $< > $@

$(BUILD)/po-tables: $(BUILD)/po/tables.o $(LIB_OBJ)
	$(call say,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BSD_LIBS) $(JSON_LIBS)

# the template: what xgettext finds in the code and what po/tables.c
# lists from the tables; then each translation is merged with it (new
# messages untranslated, changed ones fuzzy: `make check` fails on both)
$(BUILD)/po/proclab.pot: $(BUILD)/po-tables $(ENGINE_SRC) $(LAB_SRC)
	@mkdir -p $(BUILD)/po
	$(call say,POT,$@)xgettext --from-code=UTF-8 --add-comments=TRANSLATORS: \
	  $(XGETTEXT_KEYWORDS) --package-name=proclab \
	  --msgid-bugs-address=https://github.com/proclab/proclab/issues \
	  -o $(BUILD)/po/code.pot $(sort $(ENGINE_SRC) $(LAB_SRC))
	./$(BUILD)/po-tables | msguniq -o $(BUILD)/po/tables.pot
	msgcat --use-first -o $@ $(BUILD)/po/code.pot $(BUILD)/po/tables.pot

pot: $(BUILD)/po/proclab.pot
	cp $(BUILD)/po/proclab.pot po/proclab.pot
	for l in $(LINGUAS); do \
	  msgmerge --quiet --update --backup=none po/$$l.po po/proclab.pot || exit; \
	done

# the tests run in the C locale, whatever the caller's (test_i18n.c sets
# its own for the runs in Chinese)
check: export LC_ALL := C
check: export LANGUAGE :=
golden: export LC_ALL := C
golden: export LANGUAGE :=

# then the shell completions and make install/uninstall (tests/*.sh)
check: $(PROG) $(BUILD)/check_proclab $(EXAMPLES) $(MO) $(BUILD)/po/proclab.pot
	PROCLAB=./$(PROG) ./$(BUILD)/check_proclab
	BUILD=$(BUILD) sh tests/po.sh
	PROCLAB=./$(PROG) sh tests/golden.sh check
	PROCLAB=./$(PROG) sh tests/golden.sh pidns
	PROCLAB=./$(PROG) bash tests/completion.sh
	@if command -v zsh >/dev/null; then \
	  echo "PROCLAB=./$(PROG) zsh tests/completion.zsh"; \
	  PROCLAB=./$(PROG) zsh tests/completion.zsh; \
	else echo "completion.zsh: skipped: no zsh"; fi
	PROCLAB=./$(PROG) MAKE="$(MAKE)" sh tests/install.sh

# review the diff: only a change of text made on purpose may show in it
golden: $(PROG)
	PROCLAB=./$(PROG) sh tests/golden.sh update

bench: $(PROG) $(BUILD)/bench $(EXAMPLES)
	PROCLAB=./$(PROG) ./$(BUILD)/bench

stress: $(PROG) $(BUILD)/stress
	PROCLAB=./$(PROG) STRESS_TRIALS=$(STRESS_TRIALS) STRESS_RUNS=$(STRESS_RUNS) \
	  STRESS_WHERE=$(STRESS_WHERE) \
	  ./$(BUILD)/stress

valgrind: $(PROG) $(BUILD)/check_proclab
	sh tests/valgrind.sh ./$(PROG) ./$(BUILD)/check_proclab

deps:
	sh .ci/deps

# Fuzzing: each tests/fuzz/fuzz_NAME.c is built with the code it tests (the
# parsers and writers are pure functions) and run from the seeds in
# tests/fuzz/corpus/NAME/ for FUZZ_SECONDS (0: replay the seeds only).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS  := -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude $(BSD_CFLAGS) -g \
		-O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

have-fuzzer:
	@echo 'int LLVMFuzzerTestOneInput(void); int LLVMFuzzerTestOneInput(void) { return 0; }' | \
	  $(FUZZ_CC) -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null || { \
	  echo "make fuzz needs clang with libFuzzer (Debian: apt-get install clang libclang-rt-dev)" >&2; \
	  exit 1; }

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h src/procfs.c src/escape.c \
		   include/procfs.h include/escape.h Makefile | have-fuzzer
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< src/procfs.c src/escape.c \
		$(BSD_LIBS)

fuzz: $(FUZZ_NAMES:%=build-fuzz/fuzz_%)
	sh tests/fuzz/run build-fuzz $(FUZZ_SECONDS) $(FUZZ_NAMES)

install: $(PROG) $(MO) $(LINGUAS:%=$(BUILD)/man/%/proclab.1)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(DOCDIR)
	install -m 755 $(PROG) $(DESTDIR)$(BINDIR)/proclab
	install -m 644 man/proclab.1 $(DESTDIR)$(MANDIR)/man1/proclab.1
	install -m 644 docs/completion/proclab.bash $(DESTDIR)$(BASHCOMPDIR)/proclab
	install -m 644 docs/completion/_proclab $(DESTDIR)$(ZSHCOMPDIR)/_proclab
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 755 labs/grade.sh $(DESTDIR)$(DOCDIR)/grade.sh
	for l in $(LINGUAS); do \
	  install -d $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES $(DESTDIR)$(MANDIR)/$$l/man1 \
	    $(DESTDIR)$(DOCDIR)/$$l && \
	  install -m 644 $(dir $(PROG))locale/$$l/LC_MESSAGES/proclab.mo \
	    $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/proclab.mo && \
	  install -m 644 $(BUILD)/man/$$l/proclab.1 $(DESTDIR)$(MANDIR)/$$l/man1/proclab.1 && \
	  install -m 644 labs/$$l/*.md $(DESTDIR)$(DOCDIR)/$$l/ || exit; \
	done

# only what install put there: the shared directories stay
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/proclab $(DESTDIR)$(MANDIR)/man1/proclab.1 \
	      $(DESTDIR)$(BASHCOMPDIR)/proclab $(DESTDIR)$(ZSHCOMPDIR)/_proclab \
	      $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS))) \
	      $(DESTDIR)$(DOCDIR)/grade.sh
	for l in $(LINGUAS); do \
	  rm -f $(DESTDIR)$(LOCALEDIR)/$$l/LC_MESSAGES/proclab.mo \
	    $(DESTDIR)$(MANDIR)/$$l/man1/proclab.1 $(DESTDIR)$(DOCDIR)/$$l/*.md; \
	  rmdir $(DESTDIR)$(DOCDIR)/$$l 2>/dev/null; \
	done; true
	-rmdir $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build build-san build-fuzz build-clang proclab locale

-include $(shell find build build-san -name '*.d' 2>/dev/null)
