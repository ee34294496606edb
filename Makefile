# A thin front over Meson. The two quick-start commands are `make demo` and
# `make test`; both install missing Debian packages first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
MESON_ARGS ?=
FUZZ_SECONDS ?= 60

.PHONY: all deps build demo test asan-test fuzz fuzz-smoke bench lint clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_ARGS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	./$(BUILD)/model-scanner --model-path examples/demo-model --output-format text

test: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 2 >/dev/null || true
	python3 tests/summarize.py $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dbuildtype=debug $(MESON_ARGS)

asan-test: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN_BUILD) --print-errorlogs --num-processes 2 >/dev/null || true
	python3 tests/summarize.py $(ASAN_BUILD)

$(FUZZ_BUILD)/build.ninja:
	scripts/install-deps.sh --fuzz
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzzing=true -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dbuildtype=debugoptimized

fuzz: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	@for t in $(FUZZ_BUILD)/fuzz/fuzz_*; do \
	  [ -f $$t ] && [ -x $$t ] || continue; \
	  name=$$(basename $$t | sed 's/^fuzz_//'); \
	  mkdir -p $(FUZZ_BUILD)/corpus-$$name; \
	  echo "fuzzing $$name for $(FUZZ_SECONDS)s"; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
	    -artifact_prefix=$(FUZZ_BUILD)/crash-$$name- \
	    $(FUZZ_BUILD)/corpus-$$name fuzz/corpus/$$name || exit 1; \
	done

# the libFuzzer builds over their seed corpora only (deterministic, for CI)
fuzz-smoke: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	@for t in $(FUZZ_BUILD)/fuzz/fuzz_*; do \
	  [ -f $$t ] && [ -x $$t ] || continue; \
	  name=$$(basename $$t | sed 's/^fuzz_//'); \
	  echo "replaying the $$name corpus under libFuzzer"; \
	  $$t -runs=0 -rss_limit_mb=2048 fuzz/corpus/$$name > $(FUZZ_BUILD)/smoke-$$name.log 2>&1 \
	    || { tail -30 $(FUZZ_BUILD)/smoke-$$name.log; exit 1; }; \
	  tail -1 $(FUZZ_BUILD)/smoke-$$name.log; \
	done

bench:
	$(MAKE) build BUILD=build-release MESON_ARGS="-Dbuildtype=release"
	MODEL_SCANNER=./build-release/model-scanner bench/run.sh

lint:
	scripts/lint.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-release
