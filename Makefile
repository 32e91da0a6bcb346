# NeuralFX: build, demo, tests and install.
#   make demo      set up, build, and render the bundled example through the bundled compressor
#   make test      set up, build, and run the whole default test suite
#   make test-real the second suite, on the recordings in ../shared/data (not on a fresh machine)
#   make test-realtime  the real-time soak for 10 minutes: fxhost at period 64 on jackd -d dummy misses no
#                  more deadlines than JACK's trivial client beside it
#   make install   PREFIX=/usr/local: commands, models, presets and the LV2 bundle (lib/lv2/neuralfx.lv2)

PREFIX ?= /usr/local
SWIFT ?= swift
CONFIG := -c release
BIN := .build/release
SHARE := $(DESTDIR)$(PREFIX)/share/neuralfx
# The LV2 plugin bundle: the plugin binary, its Turtle, the models it plays.
BUNDLE := $(BIN)/lv2/neuralfx.lv2
LV2DIR := $(DESTDIR)$(PREFIX)/lib/lv2

# Debian packages the project builds and tests against.
DEBIAN_PACKAGES := libsndfile1-dev libsamplerate0-dev libjack-jackd2-dev jackd2 \
	libasound2-dev libasound2-plugins alsa-utils pkg-config tmux \
	openmpi-bin libopenmpi-dev lv2-dev lilv-utils jalv sordi

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

REALTIME_SOAK := testRealTimeSoakXrunsNoMoreThanJACKsTrivialClient

.PHONY: setup build demo test test-real test-realtime install clean

setup:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "error: Swift 6 toolchain not found on PATH (https://www.swift.org/install/linux/)"; exit 1; }

build: setup
	$(SWIFT) build $(CONFIG)
	@rm -rf $(BUNDLE).tmp && mkdir -p $(BUNDLE).tmp
	install -m 755 -s $(BIN)/libneuralfx_lv2.so $(BUNDLE).tmp/neuralfx.so
	install -m 644 models/la2a.safetensors models/overdrive.safetensors $(BUNDLE).tmp/
	$(BIN)/fxlv2ttl models $(BUNDLE).tmp
	@rm -rf $(BUNDLE) && mv $(BUNDLE).tmp $(BUNDLE)

demo: build
	@mkdir -p out
	$(BIN)/fxrender examples/drums-and-bass.flac out/demo-la2a.wav --knob peak=0.4 --force
	@echo "wrote out/demo-la2a.wav"

test: build
	$(SWIFT) test $(CONFIG) --skip NeuralFXRealDataTests --skip $(REALTIME_SOAK)

# The data is checked before the build, which takes minutes.
test-real:
	@[ -d ../shared/data ] || { echo "error: ../shared/data not found beside the project (the real-data suite needs it)"; exit 1; }
	@$(MAKE) --no-print-directory build
	$(SWIFT) test $(CONFIG) --filter NeuralFXRealDataTests

test-realtime: build
	NEURALFX_SOAK_SECONDS=600 $(SWIFT) test $(CONFIG) --filter $(REALTIME_SOAK)

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(SHARE)/models $(SHARE)/presets
	for t in fxrender fxhost fxtrain fxbench; do [ ! -x $(BIN)/$$t ] || install -m 755 $(BIN)/$$t $(DESTDIR)$(PREFIX)/bin/; done
	install -m 644 models/* $(SHARE)/models/
	[ -z "$$(ls presets)" ] || install -m 644 presets/* $(SHARE)/presets/
	install -d $(LV2DIR)/neuralfx.lv2
	install -m 644 $(BUNDLE)/*.ttl $(BUNDLE)/*.safetensors $(LV2DIR)/neuralfx.lv2/
	install -m 755 $(BUNDLE)/neuralfx.so $(LV2DIR)/neuralfx.lv2/

clean:
	rm -rf .build out
