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
PKGS      = libcurl sqlite3 inih gnutls gumbo jansson libsystemd
# Debian's libetpan.pc is unusable without dpkg-dev, so libetpan is linked by name.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -letpan
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
# The mail reader's sandbox (daemon/reader.c): used where libseccomp is installed.
SECCOMP_LIBS := $(shell pkg-config --libs libseccomp 2>/dev/null)

WARN     = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS += -D_GNU_SOURCE -DMENTORD_HAVE_GUMBO -Iinclude -DMENTORD_DATADIR='"$(DATADIR)"'
CFLAGS   ?= -O2 -g
CFLAGS   += $(WARN) $(PKG_CFLAGS)
# Debian's libstemmer-dev ships no .pc file: linked by name.
LDLIBS   += $(PKG_LIBS) -lstemmer -lm
ifneq ($(SECCOMP_LIBS),)
CPPFLAGS += -DMENTORD_HAVE_SECCOMP
LDLIBS   += $(SECCOMP_LIBS)
endif

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

.PHONY: all deps check unit e2e san-check demo install uninstall clean format fuzz bench stress \
	config-docs layers deb check-deb

all: $(addprefix $(BUILD)/,$(PROGS))

$(BUILD)/obj/%.o: daemon/%.c $(wildcard include/*.h daemon/*.h) | $(BUILD)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The programs' objects stay, for tests/layers.sh.
.SECONDARY: $(addprefix $(BUILD)/obj/,$(addsuffix .o,$(PROGS)))

# The phrase tables per language are data, built into the program as text.
INTENT_DATA = $(sort $(wildcard data/intents/*.txt))
$(BUILD)/gen/intent_data.h: $(INTENT_DATA) data/intents/gen.sh
	mkdir -p $(BUILD)/gen
	sh data/intents/gen.sh $(INTENT_DATA) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/intent.o: daemon/intent.c $(BUILD)/gen/intent_data.h $(wildcard include/*.h) | $(BUILD)/obj
	$(CC) $(CPPFLAGS) -I$(BUILD)/gen $(CFLAGS) -c -o $@ $<

# The skill tables per language (data/skills/LANG.txt), built in the same way.
SKILLS_DATA = $(sort $(wildcard data/skills/*.txt))
$(BUILD)/gen/skills_data.h: $(SKILLS_DATA) data/skills/gen.sh
	mkdir -p $(BUILD)/gen
	sh data/skills/gen.sh $(SKILLS_DATA) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/skills.o: daemon/skills.c $(BUILD)/gen/skills_data.h $(wildcard include/*.h) | $(BUILD)/obj
	$(CC) $(CPPFLAGS) -I$(BUILD)/gen $(CFLAGS) -c -o $@ $<

$(BUILD)/libmentord.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%: $(BUILD)/obj/%.o $(BUILD)/libmentord.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libmentord.a $(LDLIBS)

# A test that runs a program runs the one of its own build (MENTORD_BUILDDIR), built first.
$(BUILD)/tests/%: tests/%.c $(BUILD)/libmentord.a $(wildcard include/*.h tests/*.h) \
		| $(BUILD)/tests $(addprefix $(BUILD)/,$(PROGS))
	$(CC) $(CPPFLAGS) -Itests -DMENTORD_SRCDIR='"$(CURDIR)"' -DMENTORD_BUILDDIR='"$(CURDIR)/$(BUILD)"' \
		$(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(BUILD)/libmentord.a $(LDLIBS) $(CMOCKA_LIBS)

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

# The sample configuration and mentord.ini(5) are written from the key table
# (daemon/config_keys.c), mentord(8)'s list of mail commands from the command
# table (include/command_table.h); test_config and test_reading fail when the
# committed ones differ.
$(BUILD)/configdoc: tools/configdoc.c $(BUILD)/libmentord.a include/config.h include/command.h \
		include/command_table.h
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmentord.a $(LDLIBS)

# Calls between modules run down the layers of tests/layers.list, without
# circles, and every exported name carries its file's prefix.
layers: all $(addprefix $(BUILD)/obj/,$(addsuffix .o,$(PROGS)))
	sh tests/layers.sh $(BUILD)

config-docs: $(BUILD)/configdoc
	$(BUILD)/configdoc ini > etc/mentord.ini.new && mv etc/mentord.ini.new etc/mentord.ini
	$(BUILD)/configdoc man > man/mentord.ini.5.new && mv man/mentord.ini.5.new man/mentord.ini.5
	$(BUILD)/configdoc commands > $(BUILD)/commands.man
	awk -v gen=$(BUILD)/commands.man 'index($$0, "commands end") { skip = 0 } !skip { print } \
		index($$0, "commands: made by") { while ((getline l < gen) > 0) print l; skip = 1 }' \
		man/mentord.8 > man/mentord.8.new && mv man/mentord.8.new man/mentord.8
	mandoc -Tlint -W warning man/mentord.ini.5

deps:
	@sh tests/deps.sh

# Both builds, then unit tests and end-to-end tests against a real Dovecot and
# Postfix in each: the normal build's suites and the sanitizer build's (which tests
# its own binaries) run side by side (tests/check.sh).  Every suite prints
# "SUITE(BUILD): N passed, N failed, N skipped"; tests/report.sh adds them up,
# checks each suite of tests/suites.list reported, and prints the total line.  A
# failing suite does not stop the others, so the report sees every suite.
check: deps
	$(MAKE) all tests
	$(MAKE) SAN=1 all tests
	@sh tests/check.sh

tests: $(TEST_BIN)

unit: all tests
	sh tests/run-unit.sh $(BUILD)

e2e: all
	sh tests/e2e/run.sh $(BUILD)

demo: deps all
	sh tests/e2e/demo.sh $(BUILD)

# The programs find their templates beside themselves (PREFIX/share/mentord,
# daemon/paths.c), so `make && make install PREFIX=/opt/mentord` needs no
# rebuild.  The example configuration is never overwritten; it is made
# readable by the group mentord when that group exists (README, "Deploying").
MAN_PAGES = $(wildcard man/*.[1-8])

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/templates \
		$(DESTDIR)$(SYSCONFDIR)/mentord $(DESTDIR)$(UNITDIR)
	install -m 755 $(BUILD)/mentord $(DESTDIR)$(SBINDIR)/mentord
	install -m 755 $(BUILD)/mentorctl $(DESTDIR)$(BINDIR)/mentorctl
	cd templates && find . -name '*.txt' -o -name '*.data' | while read -r t; do \
		install -D -m 644 "$$t" "$(DESTDIR)$(DATADIR)/templates/$$t" || exit 1; done
	for m in $(MAN_PAGES); do \
		install -D -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/} || exit 1; done
	[ -e $(DESTDIR)$(SYSCONFDIR)/mentord/mentord.ini ] || \
		install -m 640 etc/mentord.ini $(DESTDIR)$(SYSCONFDIR)/mentord/mentord.ini
	if [ -z "$(DESTDIR)" ] && getent group mentord >/dev/null; then \
		chgrp mentord $(SYSCONFDIR)/mentord/mentord.ini; fi
	for u in mentord.service mentord@.service; do \
		sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' etc/$$u \
			> $(DESTDIR)$(UNITDIR)/$$u || exit 1; done

# The configuration file is left in place, as Debian does for conffiles on remove.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mentord $(DESTDIR)$(BINDIR)/mentorctl \
		$(DESTDIR)$(UNITDIR)/mentord.service $(DESTDIR)$(UNITDIR)/mentord@.service
	for m in $(MAN_PAGES); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/}; done
	rm -rf $(DESTDIR)$(DATADIR)

# The Debian package, built as Debian would: dpkg-buildpackage in a clean
# clone of the committed HEAD (uncommitted changes are not in it), into
# $(BUILD)/deb/.  check-deb builds it, runs lintian, installs it with dpkg,
# answers a JOIN from the test-bed with the README's configuration, upgrades
# it keeping configuration and data, and purges it (as root; changes the host).
deb:
	@sh tests/deps.sh deb
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb
	git clone -q --no-checkout --no-hardlinks . $(BUILD)/deb/mentord
	git -C $(BUILD)/deb/mentord checkout -q --detach $$(git rev-parse HEAD)
	cd $(BUILD)/deb/mentord && dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

check-deb: deb
	sh tests/check-deb.sh $(BUILD)/deb 2>&1 | tee $(BUILD)/check-deb.txt
	@tail -n 1 $(BUILD)/check-deb.txt | grep -q ' 0 failed, 0 skipped$$'

# The long fault and load tests: 1,000 mails under 50 SIGKILLs, 10,000 mails
# with memory sampled, valgrind; about 10 minutes.
stress: deps all
	@rm -f build/stress.txt
	sh tests/faults/run.sh build --long | tee -a build/stress.txt
	@sh tests/report.sh build/stress.txt

# Benchmarks are not part of make check: each reports a ratio against a
# reference measured in the same run (see bench/README.md); bench/round.py
# times a whole round inside mentorctl match --dry-run; bench/run.sh ends with
# every target of issue 17 beside its reference from the same run.
bench: all
	@sh tests/deps.sh bench
	@sh bench/run.sh $(CURDIR)/$(BUILD)

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
