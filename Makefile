# proclab - a process-lifecycle lab bench.
#
#   make              build ./proclab
#   make check        build and run the tests (Check)
#   make bench        measure the observer (prints `name value` lines)
#   make valgrind     every lab and the unit tests under valgrind memcheck
#   make deps         install the Debian packages the build needs
#   make install      PREFIX=/usr/local DESTDIR= (also: uninstall)
#   make SANITIZE=1   build with ASan+UBSan, under build-san/
#   make V=1          show the commands

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/proclab

PKG_CONFIG ?= pkg-config
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wformat=2 -Wno-format-nonliteral

BSD_CFLAGS   := $(shell $(PKG_CONFIG) --cflags libbsd-overlay 2>/dev/null)
BSD_LIBS     := $(shell $(PKG_CONFIG) --libs libbsd-overlay 2>/dev/null)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

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

ALL_CFLAGS  = -std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude $(BSD_CFLAGS) $(SAN) $(CFLAGS) \
	      $(CPPFLAGS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)

ENGINE_SRC := $(wildcard src/*.c)
LAB_SRC    := $(wildcard labs/*.c)
TEST_SRC   := $(wildcard tests/test_*.c) tests/check_main.c tests/testutil.c
BENCH_SRC  := tests/bench.c

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIB_OBJ   := $(call obj,$(filter-out src/main.c,$(ENGINE_SRC)) $(LAB_SRC))
MAIN_OBJ  := $(call obj,src/main.c)
TEST_OBJ  := $(call obj,$(TEST_SRC))
BENCH_OBJ := $(call obj,$(BENCH_SRC))

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

.PHONY: all check bench valgrind deps install uninstall clean have-deps
all: $(PROG)

have-deps:
	@$(PKG_CONFIG) --exists libbsd-overlay check 2>/dev/null || { \
	  echo "proclab needs libbsd-dev, check and pkgconf: run 'make deps'" >&2; \
	  exit 1; }

$(PROG): $(MAIN_OBJ) $(LIB_OBJ) | have-deps
	$(call say,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BSD_LIBS)

$(BUILD)/check_proclab: $(TEST_OBJ) $(LIB_OBJ)
	$(call say,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(BSD_LIBS)

$(BUILD)/bench: $(BENCH_OBJ) $(LIB_OBJ)
	$(call say,LINK,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BSD_LIBS)

$(BUILD)/tests/%.o: tests/%.c Makefile | have-deps
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.c Makefile | have-deps
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

check: $(PROG) $(BUILD)/check_proclab
	PROCLAB=./$(PROG) ./$(BUILD)/check_proclab

bench: $(PROG) $(BUILD)/bench
	PROCLAB=./$(PROG) ./$(BUILD)/bench

valgrind: $(PROG) $(BUILD)/check_proclab
	sh tests/valgrind.sh ./$(PROG) ./$(BUILD)/check_proclab

deps:
	sh .ci/deps

install: $(PROG)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)
	install -m 755 $(PROG) $(DESTDIR)$(BINDIR)/proclab
	install -m 644 man/proclab.1 $(DESTDIR)$(MANDIR)/man1/proclab.1
	install -m 644 README.md docs/*.md labs/*.md $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/proclab $(DESTDIR)$(MANDIR)/man1/proclab.1
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build build-san proclab

-include $(shell find build build-san -name '*.d' 2>/dev/null)
