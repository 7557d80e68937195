# streamweb: a C live-frame streaming backend (see README.md).
# Plain GNU make: `make` builds, `make run` starts a local stack, `make test`
# runs every test, `make bench` measures. Objects live under $(BUILD)/.

CC      ?= cc
CFLAGS  ?= -O2 -g
LDFLAGS ?=
BUILD   ?= build

PKGS := hiredis json-c libjwt openssl fcgi
# Internal flags come first and user CFLAGS cannot drop -Werror.
SW_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -fno-strict-aliasing \
            -Icommon -Icgi -MMD -MP $(shell pkg-config --cflags $(PKGS))
SW_LIBS   = $(shell pkg-config --libs $(PKGS))
# The ws programs live as long as a connection, one per viewer: they load
# neither libjwt nor OpenSSL's shared library (ws-admit checks the token
# before it becomes them), whose relocated data alone is 400 KB a process.
# Base64 comes from libcrypto.a, a few KB of it, linked in.
WS_LIBS   = -Wl,--as-needed $(shell pkg-config --libs hiredis json-c) \
            $(shell pkg-config --variable=libdir libcrypto)/libcrypto.a
ifdef SAN
SW_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC   := $(wildcard common/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libstreamweb.a
CGI_BIN   := $(BUILD)/labels.fcgi $(BUILD)/frames.fcgi $(BUILD)/status.fcgi $(BUILD)/authorize.fcgi
WS_BIN    := $(patsubst ws/%.c,$(BUILD)/ws-%,$(wildcard ws/*.c))
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
TOOL_BIN  := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))
# websocketd: Debian's source package plus our patch series (deploy/websocketd/), one
# build per clean tree. Always under build/: it is Go, the same for every BUILD/SAN.
WSD       := build/websocketd
WSD_PATCH := $(sort $(wildcard deploy/websocketd/patches/*.patch))

.PHONY: all tests deps browser-deps run test test-asan test-valgrind fuzz prove bench clean websocketd-stock
# Keep intermediate objects, so a rebuild relinks only what changed.
.SECONDARY:
all: $(LIB) $(CGI_BIN) $(WS_BIN) $(TOOL_BIN) $(WSD)

tests: all $(UNIT_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(SW_CFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/%.fcgi: $(BUILD)/cgi/%.o $(BUILD)/cgi/fcgi_run.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.o,$^) $(LIB) $(SW_LIBS) -o $@

$(BUILD)/ws-admit: $(BUILD)/ws/admit.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(SW_LIBS) -o $@

$(BUILD)/ws-%: $(BUILD)/ws/%.o $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(WS_LIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(SW_LIBS) -o $@

$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(SW_LIBS) -lm -o $@

# The directory too: removing a patch changes its time, not any remaining patch's.
$(WSD): deploy/websocketd/build.sh $(wildcard deploy/websocketd/patches) $(WSD_PATCH)
	@$(if $(Q),echo "  GO      $@ ($(words $(WSD_PATCH)) patches)")
	$(Q)deploy/websocketd/build.sh $@

# The unpatched source, built the same way: what the patches are measured against.
websocketd-stock: build/websocketd-stock
build/websocketd-stock: deploy/websocketd/build.sh
	@$(if $(Q),echo "  GO      $@ (no patches)")
	$(Q)deploy/websocketd/build.sh --stock $@

# The two commands of the README: each installs what is missing first, then
# re-enters make so pkg-config sees the freshly installed libraries.
deps:
	@deploy/install-deps.sh

# playwright-core for the browser tests, at the version package-lock.json
# pins (npm writes node_modules/.package-lock.json; gitignored). It drives
# Debian's chromium: no browser is downloaded.
BROWSER_DIR := tests/browser
$(BROWSER_DIR)/node_modules/.package-lock.json: $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json
	@echo "  NPM     $(BROWSER_DIR)"
	$(Q)cd $(BROWSER_DIR) && npm ci --no-audit --no-fund --loglevel=error

browser-deps: $(BROWSER_DIR)/node_modules/.package-lock.json

run: deps
	@$(MAKE) --no-print-directory all
	@STACK_TUNE_PIPES=1 exec deploy/stack.sh

test: deps
	@$(MAKE) --no-print-directory tests browser-deps
	@tests/run.sh

# The same suite with AddressSanitizer + UndefinedBehaviorSanitizer builds of
# every program (integration tests fail on any sanitizer report in a log).
test-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 CFLAGS="-O1 -g" tests browser-deps
	@BUILD=build-asan tests/run.sh

# The unit tests under valgrind: zero errors and zero leaks, or they fail.
test-valgrind: deps
	@$(MAKE) --no-print-directory tests
	@UNIT_ONLY=1 UNIT_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible" tests/run.sh

# libFuzzer targets (tests/fuzz), each FUZZ_SECONDS seconds under ASan+UBSan.
FUZZ_SECONDS ?= 60
fuzz:
	@deploy/install-deps.sh fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh

# Issue 4's proof: fuzzing, the sanitizer and valgrind suites, faults, load with
# integrity and hostile input, summarised in tests/RESULTS.md.
prove: deps
	@deploy/install-deps.sh fuzz
	@$(MAKE) --no-print-directory tests
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/prove.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/run.sh

clean:
	rm -rf $(BUILD) build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
