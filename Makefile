# mentord: a mail daemon that runs a peer-mentorship programme by email.
#
#   make            build mentord and mentorctl into build/
#   make check      install dependencies, build, run unit + end-to-end tests,
#                   then the same tests in an ASan+UBSan build
#   make demo       start a local mail test-bed and show the mail loop
#   make install    install under $(DESTDIR)$(PREFIX)

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
DATADIR    ?= $(PREFIX)/share/mentord
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system

CC       ?= cc
BUILD    ?= build
PKGS      = libcurl sqlite3 inih gnutls gumbo
# Debian's libetpan.pc is unusable without dpkg-dev, so libetpan is linked by name.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -letpan
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN     = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS += -D_GNU_SOURCE -DMENTORD_HAVE_GUMBO -Iinclude -DMENTORD_DATADIR='"$(DATADIR)"'
CFLAGS   ?= -O2 -g
CFLAGS   += $(WARN) $(PKG_CFLAGS)
LDLIBS   += $(PKG_LIBS) -lm

ifeq ($(SAN),1)
BUILD    = build-san
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

PROGS    = mentord mentorctl
LIB_SRC  = $(filter-out $(addprefix daemon/,$(addsuffix .c,$(PROGS))),$(wildcard daemon/*.c))
LIB_OBJ  = $(LIB_SRC:daemon/%.c=$(BUILD)/obj/%.o)
TEST_SRC = $(wildcard tests/test_*.c)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all deps check unit e2e san-check demo install uninstall clean format fuzz bench stress

all: $(addprefix $(BUILD)/,$(PROGS))

$(BUILD)/obj/%.o: daemon/%.c $(wildcard include/*.h daemon/*.h) | $(BUILD)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libmentord.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%: $(BUILD)/obj/%.o $(BUILD)/libmentord.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libmentord.a $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libmentord.a $(wildcard include/*.h tests/*.h) | $(BUILD)/tests
	$(CC) $(CPPFLAGS) -Itests -DMENTORD_SRCDIR='"$(CURDIR)"' $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(BUILD)/libmentord.a $(LDLIBS) $(CMOCKA_LIBS)

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

deps:
	@sh tests/deps.sh

# Unit tests, then end-to-end tests against a real Dovecot and Postfix, first in the
# normal build and then in the sanitizer build; tests/report.sh prints the total line.
check: deps
	@rm -f build/results.txt
	$(MAKE) all tests
	sh tests/run-unit.sh build | tee -a build/results.txt
	sh tests/test_digest_browser.sh build | tee -a build/results.txt
	sh fuzz/replay.sh build | tee -a build/results.txt
	sh tests/install.sh build | tee -a build/results.txt
	sh tests/test_mentorctl.sh build | tee -a build/results.txt
	sh tests/e2e/run.sh build | tee -a build/results.txt
	sh tests/faults/run.sh build | tee -a build/results.txt
	$(MAKE) SAN=1 all tests
	sh tests/run-unit.sh build-san | tee -a build/results.txt
	sh tests/test_digest_browser.sh build-san | tee -a build/results.txt
	sh fuzz/replay.sh build-san | tee -a build/results.txt
	sh tests/test_mentorctl.sh build-san | tee -a build/results.txt
	sh tests/e2e/run.sh build-san | tee -a build/results.txt
	@sh tests/report.sh build/results.txt

tests: $(TEST_BIN)

unit: all tests
	sh tests/run-unit.sh $(BUILD)

e2e: all
	sh tests/e2e/run.sh $(BUILD)

demo: deps all
	sh tests/e2e/demo.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/templates \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSCONFDIR)/mentord \
		$(DESTDIR)$(UNITDIR)
	install -m 755 $(BUILD)/mentord $(DESTDIR)$(SBINDIR)/mentord
	install -m 755 $(BUILD)/mentorctl $(DESTDIR)$(BINDIR)/mentorctl
	install -m 644 templates/*.txt $(DESTDIR)$(DATADIR)/templates/
	install -m 644 man/mentord.8 $(DESTDIR)$(MANDIR)/man8/mentord.8
	install -m 644 man/mentorctl.1 $(DESTDIR)$(MANDIR)/man1/mentorctl.1
	[ -e $(DESTDIR)$(SYSCONFDIR)/mentord/mentord.ini ] || \
		install -m 640 etc/mentord.ini $(DESTDIR)$(SYSCONFDIR)/mentord/mentord.ini
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' etc/mentord.service \
		> $(DESTDIR)$(UNITDIR)/mentord.service

# The configuration file is left in place, as Debian does for conffiles on remove.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mentord $(DESTDIR)$(BINDIR)/mentorctl \
		$(DESTDIR)$(MANDIR)/man8/mentord.8 $(DESTDIR)$(MANDIR)/man1/mentorctl.1 \
		$(DESTDIR)$(UNITDIR)/mentord.service
	rm -rf $(DESTDIR)$(DATADIR)

# The long fault and load tests: 1,000 mails under 50 SIGKILLs, 10,000 mails
# with memory sampled, valgrind; about 10 minutes.
stress: deps all
	@rm -f build/stress.txt
	sh tests/faults/run.sh build --long | tee -a build/stress.txt
	@sh tests/report.sh build/stress.txt

# Benchmarks are not part of make check: each reports a ratio against a
# reference measured in the same run (see bench/README.md).
bench: all
	@sh tests/deps.sh bench
	$(MAKE) -C bench BUILD=$(CURDIR)/$(BUILD)
	$(MAKE) -C bench/mail BUILD=$(CURDIR)/$(BUILD)

# Coverage-guided fuzzing with libFuzzer (clang), SECONDS per target (default
# 60); the grown corpus stays in fuzz/corpus, `make -C fuzz merge` refreshes the
# small regression corpus in fuzz/regress that make check replays.
fuzz: deps
	@sh tests/deps.sh fuzz
	$(MAKE) -C fuzz run SECONDS=$(or $(SECONDS),60)

format:
	clang-format -i daemon/*.c daemon/*.h include/*.h tests/*.c

clean:
	rm -rf build build-san
