# NeuralFX: build, demo, tests and install.
#   make demo      set up, build, and render the bundled example through the bundled compressor
#   make test      set up, build, and run the whole default test suite
#   make test-real the second suite, on the recordings in ../shared/data (not on a fresh machine)
#   make test-realtime  the real-time soak (30 s in make test) for 10 minutes: fxhost at period 64 on
#                  jackd -d dummy misses no more cycles than JACK's example clients beside it
#   make install   PREFIX=/usr/local: commands, models, presets and the LV2 bundle (lib/lv2/neuralfx.lv2)
#   make fuzz      each fuzz target for FUZZ_SECONDS (60) under libFuzzer and ASan; a crash, a hang
#                  over 1 s or 512 MB saves its input to Tests/FuzzRegressions/<target> and fails
#   make test-sanitize  core, model file, training and host tests under ASan (test-asan); host tests
#                  under TSan (test-tsan)

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

# Fuzzing (docs/reliability.md): every target of its own, in its own scratch
# folder. libFuzzer owns main there, so only the fuzz products are built.
# Optimized (a debug build loads an LSTM capture in over the 1 s limit), but
# NEURALFX_CHECKED keeps Swift's overflow and bounds checks (-Ounchecked
# drops them). SwiftPM passes its sanitizers to swiftc as separate
# -sanitize= flags in no fixed order, and swiftc keeps only the last: the
# combined flag after them gives every module both coverage and ASan.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := safetensors nam preset dataset-manifest native-manifest midi capture-plan
FUZZ_BUILD := NEURALFX_CHECKED=1 $(SWIFT) build -c release --scratch-path .build-fuzz \
	--sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address \
	-Xswiftc -DNFX_FUZZING -Xswiftc -parse-as-library
FUZZ_FLAGS := -timeout=1 -rss_limit_mb=512 -print_final_stats=1
# The Swift runtime's crash handler fights ASan's over the same signal; a
# smaller quarantine keeps ASan's own memory well under the 512 MB limit.
FUZZ_ENV := SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=quarantine_size_mb=64

.PHONY: setup build demo test test-real test-realtime install clean fuzz fuzz-build test-sanitize test-asan test-tsan

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
	install -m 644 models/la2a.safetensors models/overdrive.safetensors models/cl1b.safetensors $(BUNDLE).tmp/
	$(BIN)/fxlv2ttl models $(BUNDLE).tmp
	@rm -rf $(BUNDLE) && mv $(BUNDLE).tmp $(BUNDLE)

demo: build
	@mkdir -p out
	$(BIN)/fxrender examples/drums-and-bass.flac out/demo-la2a.wav --knob peak=0.4 --force
	@echo "wrote out/demo-la2a.wav"

test: build
	$(SWIFT) test $(CONFIG) --skip NeuralFXRealDataTests

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

# Each executable is linked afresh and must carry the libraries' coverage
# counters (without the combined flag above, a build could come out with
# only the executable's own 11).
fuzz-build: setup
	@for t in $(FUZZ_TARGETS); do rm -f .build-fuzz/release/fuzz-$$t; \
		$(FUZZ_BUILD) --product fuzz-$$t 2>&1 | grep -v "Cannot export local symbol" || exit 1; \
		[ -x .build-fuzz/release/fuzz-$$t ] || { echo "error: fuzz-$$t did not build"; exit 1; }; \
		$(FUZZ_ENV) .build-fuzz/release/fuzz-$$t -runs=0 2>&1 | grep -q "Loaded 1 modules *([0-9]\{4,\} inline" || \
			{ echo "error: fuzz-$$t has no coverage instrumentation of the libraries"; exit 1; }; \
	done

# The growing corpus stays in .build-fuzz; the committed seeds and earlier
# reproducers are read, never written. libFuzzer's timeout is wall-clock, so
# on a busy machine a slow moment looks like a hang: a timeout counts only if
# its input, run again alone, takes over a second again.
fuzz: fuzz-build
	@failed=; for t in $(FUZZ_TARGETS); do \
		art=.build-fuzz/artifacts/$$t; log=.build-fuzz/fuzz-$$t.log; \
		rm -rf $$art; mkdir -p .build-fuzz/corpus/$$t $$art; \
		seeds=Tests/FuzzCorpus/$$t; [ ! -d Tests/FuzzRegressions/$$t ] || seeds="$$seeds Tests/FuzzRegressions/$$t"; \
		echo "fuzz-$$t: $(FUZZ_SECONDS) s, log in $$log"; \
		$(FUZZ_ENV) .build-fuzz/release/fuzz-$$t $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=$$art/ .build-fuzz/corpus/$$t $$seeds > $$log 2>&1; \
		for a in $$art/timeout-*; do \
			[ ! -f $$a ] || ! $(FUZZ_ENV) .build-fuzz/release/fuzz-$$t -timeout=1 $$a > /dev/null 2>&1 || \
				{ echo "  $$a: ran in under 1 s alone (the machine was busy); dropped"; rm $$a; }; \
		done; \
		if [ -n "$$(ls $$art)" ]; then \
			failed="$$failed $$t"; mkdir -p Tests/FuzzRegressions/$$t; cp $$art/* Tests/FuzzRegressions/$$t/; \
			grep -m1 -A3 "ERROR\|SUMMARY" $$log; \
		fi; \
		grep "stat::number_of_executed_units\|stat::peak_rss_mb" $$log | sed 's/^/  /'; \
		grep "cov: " $$log | tail -1 | sed 's/^/  /'; \
	done; \
	[ -z "$$failed" ] || { echo "fuzzing failed:$$failed (inputs copied to Tests/FuzzRegressions)"; exit 1; }

# Optimized like the shipped build (the hot modules' -Ounchecked included),
# each sanitizer in its own scratch folder; the fxhost the host tests run is
# built sanitized too. Leak checking is off: at exit LeakSanitizer reports
# blocks allocated inside Foundation's file reading (docs/reliability.md).
# ThreadSanitizer leaves out the tests that open a JACK client: libjack stops
# its client thread with pthread_cancel inside a blocking call, which TSan's
# runtime treats as fatal. The lock-free paths between the control and audio
# threads are exercised in-process (LiveProcessorThreadTests) and in fxhost on ALSA.
ASAN_TESTS := '^(NeuralFXCoreTests|NeuralFXModelFilesTests|NeuralFXTrainingTests|FXHostTests)\.'
TSAN_TESTS := '^FXHostTests\.(LiveProcessorTests|LiveProcessorThreadTests|AlsaHostTests|BadInputTests)/'

test-sanitize: test-asan test-tsan

test-asan: setup
	NEURALFX_SANITIZE=1 SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test -c release --sanitize=address \
		--scratch-path .build-asan --filter $(ASAN_TESTS) --skip $(REALTIME_SOAK)

test-tsan: setup
	NEURALFX_SANITIZE=1 SWIFT_BACKTRACE=enable=no $(SWIFT) test -c release --sanitize=thread \
		--scratch-path .build-tsan --filter $(TSAN_TESTS) --skip testUnknownPortAndRefusedClient

clean:
	rm -rf .build .build-fuzz .build-asan .build-tsan out
