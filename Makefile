# Thin wrapper: the build is meson (build/), the work is in scripts/.
#   make         build (meson setup build if needed, ninja -C build)
#   make run     setup + build + the demo topology in the foreground (Ctrl-C stops)
#   make test    setup + build + unit tests + integration tests
#   make test-mw setup + build + the integration tests again with 3 workers
#   make bench   setup + build + the benchmarks (bench/results/: forward, crypto, tcp, tls, agent)
#   make clean   remove build/ and bench/work/
BUILD ?= build
MESON_OPTS ?=

.PHONY: all build setup run test test-mw bench clean

all: build

build:
	@command -v meson >/dev/null && command -v ninja >/dev/null || scripts/setup.sh
	@if [ ! -f $(BUILD)/build.ninja ]; then \
		if [ -d $(BUILD) ]; then meson setup --wipe $(BUILD) $(MESON_OPTS); \
		else meson setup $(BUILD) $(MESON_OPTS); fi; \
	fi
	ninja -C $(BUILD)

setup:
	scripts/setup.sh

run: setup
	@$(MAKE) --no-print-directory build
	SLUICE_BUILD=$(abspath $(BUILD)) scripts/run.sh

test: setup
	@$(MAKE) --no-print-directory build
	@SLUICE_BUILD=$(abspath $(BUILD)) tests/integration/run.sh --unit --fuzz

# The multi-worker pass: every integration test again with 3 workers
# (tests/integration/run.sh --workers; .ci/run calls it after make test).
test-mw: setup
	@$(MAKE) --no-print-directory build
	@SLUICE_BUILD=$(abspath $(BUILD)) tests/integration/run.sh --workers 3

bench: setup
	@$(MAKE) --no-print-directory build
	SLUICE_BUILD=$(abspath $(BUILD)) bench/run.sh
	SLUICE_BUILD=$(abspath $(BUILD)) bench/scale.sh || echo "bench: scale: INCOMPLETE (reasons in bench/results/scale.json, logs in bench/work/scale-*.log)"
	SLUICE_BUILD=$(abspath $(BUILD)) bench/udp.sh || echo "bench: udp: FAILED (logs in bench/work/udp-*.log)"
	SLUICE_BUILD=$(abspath $(BUILD)) bench/lstp.sh || echo "bench: lstp: FAILED (logs in bench/work/lstp-*.log)"

clean:
	rm -rf $(BUILD) bench/work
