# Atlas - a plain GNU Makefile. `make` builds build/atlas.
# Every .c under the source folders is part of the binary; every
# tests/unit/test_*.c is one cmocka test program linked with all of it but
# cli/main.c.

CC ?= cc
PKGS := yaml-0.1 sqlite3 jansson libmicrohttpd gnutls libcrypto libqrencode libprotobuf-c
# libcurl: headers only; controller/singbox/sb_http.c loads the library with
# dlopen() when sing-box is managed (docs/performance.md).
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libcurl 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WERROR := $(if $(CI),-Werror,)
OPT ?= -O2
CFLAGS ?= $(OPT) -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral \
	  -Wno-missing-field-initializers $(WERROR) -MMD -MP -I. -I$(B)/gen $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -lpthread

B ?= build
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

# One folder per engine under controller/ and renderers/ (docs/contributing.md).
ENGINE_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard controller/*/*.c renderers/*/*.c))))
SRC_DIRS := lib state controller renderers $(ENGINE_DIRS) api cli
SRCS := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c))
# Protocol buffers (sing-box's gRPC api): protoc-c generates the C code
# under $(B)/gen at build time; sources include "DIR/NAME.pb-c.h".
PROTOS := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.proto))
PROTO_C := $(PROTOS:%.proto=$(B)/gen/%.pb-c.c)
PROTO_H := $(PROTO_C:.c=.h)
OBJS := $(SRCS:%.c=$(B)/%.o) $(PROTO_C:.c=.o) $(B)/gen/migrations.o $(B)/gen/uifiles.o
LIB_OBJS := $(filter-out $(B)/cli/main.o,$(OBJS))
MIGRATIONS := $(sort $(wildcard schema/*.sql))
UI_FILES := $(shell find ui -type f ! -name '*.gz' ! -path 'ui/src/*' 2>/dev/null | sort)

TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(B)/tests/%)
# The fuzz targets, each linked with tests/fuzz/driver.c to run its seeds once.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)

.PHONY: all deps run test unit fuzz-seed print-test-bins print-libs e2e browser asan fuzz bench fmt clean asan-e2e check-no-shell check-circles golden css

all: $(B)/atlas

$(B)/atlas: $(OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/gen/%.pb-c.c $(B)/gen/%.pb-c.h: %.proto
	@mkdir -p $(B)/gen
	@echo "  PROTOC  $<"
	$(Q)protoc-c --c_out=$(B)/gen -I. $<

# Every object may include a generated header: generate them first.
$(SRCS:%.c=$(B)/%.o): | $(PROTO_H)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(B)/gen/migrations.c: $(MIGRATIONS) scripts/embed.sh
	@mkdir -p $(dir $@)
	$(Q)bash scripts/embed.sh migrations $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

# Each ui/ file is embedded twice: as is, and gzip -9 -n (no name, no time:
# the same bytes at every build) for clients that accept gzip.
UI_GZ := $(UI_FILES:%=$(B)/gen/%.gz)

$(B)/gen/ui/%.gz: ui/%
	@mkdir -p $(dir $@)
	$(Q)gzip -9 -n -c $< > $@.tmp && mv $@.tmp $@

$(B)/gen/uifiles.c: $(UI_FILES) $(UI_GZ) scripts/embed.sh
	@mkdir -p $(dir $@)
	$(Q)bash scripts/embed.sh ui $(B)/gen $(UI_FILES) > $@.tmp && mv $@.tmp $@

$(B)/gen/%.o: $(B)/gen/%.c
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -I. -o $@ $< $(LIB_OBJS) $(LDLIBS) -lcmocka

$(B)/fuzz/driver.o: tests/fuzz/driver.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(B)/fuzz/%: tests/fuzz/%.c $(B)/fuzz/driver.o $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -I. -o $@ $< $(B)/fuzz/driver.o $(LIB_OBJS) $(LDLIBS)

# Installs the Debian packages that building, running and testing need,
# only those missing (apt-get runs once, when something is missing).
deps:
	$(Q)bash scripts/deps.sh

run: deps all
	./$(B)/atlas --data $${ATLAS_DATA:-./data} serve --listen $${ATLAS_LISTEN:-127.0.0.1:8080}

unit: all $(TEST_BINS)
	$(Q)bash tests/run-unit.sh $(B) $(TEST_BINS)

# The test programs of this tree, for tests/run-unit.sh run by hand.
print-test-bins:
	@echo $(TEST_BINS)

# The libraries the binary links: for bench/ and tests/fuzz/ programs built from its objects.
print-libs:
	@echo $(LDLIBS)

check-no-shell:
	$(Q)bash tests/check-no-shell.sh

# No two files call or include each other round a circle (reads the objects).
check-circles: all
	$(Q)bash tests/check-circles.sh $(B)

e2e: all
	$(Q)bash tests/run-e2e.sh $(B)

browser: all
	$(Q)bash tests/run-browser.sh $(B)

# The whole suite: what README.md and .ci/run call.
test: deps
	$(Q)bash tests/run-all.sh

# The test build: ASan+UBSan, and the injected failures of lib/fault.h
# (ATLAS_FAULT_SPAWN, ATLAS_FAULT_WRITE), which `make all` leaves out.
ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -DATLAS_FAULT_INJECT
asan:
	$(MAKE) B=build-asan OPT=-O1 CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="-fsanitize=address,undefined" unit

# Every end-to-end test, the real engines' included, with the ASan+UBSan atlas
# (make test runs the CLI and API ones; this runs them all, about twice as long).
asan-e2e: all
	$(MAKE) B=build-asan OPT=-O1 CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="-fsanitize=address,undefined" all
	$(Q)ASAN_E2E_ALL=1 bash tests/run-asan-e2e.sh build-asan

# libFuzzer (clang) on every target for FUZZ_SECONDS each (tests/fuzz/run.sh).
fuzz: deps
	$(Q)bash tests/fuzz/run.sh

# Every seed input of every fuzz target once, under ASan+UBSan (make test).
fuzz-seed:
	$(MAKE) B=build-asan OPT=-O1 CFLAGS="$(ASAN_CFLAGS)" LDFLAGS="-fsanitize=address,undefined" fuzz-seed-run

fuzz-seed-run: all $(FUZZ_BINS)
	$(Q)bash tests/fuzz/seeds.sh $(B)

bench: deps all
	$(Q)bash bench/run.sh $(B)

golden: all $(TEST_BINS)
	$(Q)bash tests/run-unit.sh --regen-golden $(B) $(TEST_BINS)

# Rebuilds ui/app.css with the Tailwind CLI (npm, development time only;
# the built file is committed so the server needs no Node.js).
css:
	$(Q)cd ui/src && { [ -d node_modules/tailwindcss ] || npm install --no-audit --no-fund --silent; } && npm run --silent css

fmt:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz

-include $(OBJS:.o=.d) $(TEST_BINS:=.d) $(FUZZ_BINS:=.d)
