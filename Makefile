# nanokws: the two commands a newcomer needs are `make demo` and `make test`; both run `make setup` first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN ?= runs/demo
export PLATFORMIO_CORE_DIR := $(CURDIR)/.pio/core
export PLATFORMIO_SETTING_ENABLE_TELEMETRY := no
export PLATFORMIO_DISABLE_UPGRADE_CHECK := true
PIO_STAMP := firmware/platformio/packages/toolchain-gccarmnoneeabi-system/package.json
ARM_BIN := firmware/platformio/packages/toolchain-gccarmnoneeabi-system/bin

.PHONY: setup apt venv pio demo test test-fast lint firmware hil flash bench bench-loeo fuzz clean

setup: apt venv pio

apt:
	@bash tools/apt_setup.sh

venv: $(VENV)/.installed $(VENV)/.librosa-compiled $(VENV)/.kokoro-english

# Re-installs only when pyproject.toml changes. torch is pinned to the CPU build (see pyproject.toml).
$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

# librosa's numba functions compiled once, in one process, before anything runs them in parallel: processes
# compiling them at once can leave a cache that crashes every later call (tools/numba_cache.py). About 50 s.
$(VENV)/.librosa-compiled: $(VENV)/.installed tools/numba_cache.py
	$(BIN)/python tools/numba_cache.py
	@touch $@

# Kokoro's 28 English voices, unpacked from the pinned source distribution of PyPI `kokoro` (its wheel is code
# only) into $(VENV)/share/nanokws/kokoro-en (host/nanokws/data/kokoro_voices.py). About 10 s.
$(VENV)/.kokoro-english: $(VENV)/.installed host/nanokws/data/kokoro_voices.py
	$(BIN)/python -m nanokws.data.kokoro_voices
	@touch $@

pio: $(VENV)/.installed
	@bash tools/pio_setup.sh

# The main job end to end on the offline default: data, features, teacher, distilled student, int8 model
# verified against TFLM and LiteRT, exported to C (firmware/generated/), both firmware images built, and the
# emulated firmware's accuracy on the test split beside the host's, and the run's report with it.
demo: setup
	$(BIN)/host data synth --run $(RUN)
	$(BIN)/host features --run $(RUN)
	$(BIN)/host train --run $(RUN)
	$(BIN)/host export --model $(RUN)
	$(MAKE) --no-print-directory firmware
	$(BIN)/host hil --data $(RUN)/data --split test --json $(RUN)/hil.json
	$(BIN)/host report $(RUN)

# Two workers, one a core here (tests/conftest.py says what runs together); PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --no-loadscope-reorder

test: setup
	$(PYTEST)

test-fast: setup
	$(PYTEST) -m "not slow"

lint: venv
	$(BIN)/ruff check host tests firmware/platformio
	$(BIN)/ruff format --check host tests firmware/platformio

# Both images from firmware/ and the exported model in firmware/generated/, then their flash and RAM use.
firmware: setup
	$(BIN)/pio run -e nano33ble -e emu
	@$(ARM_BIN)/arm-none-eabi-size .pio/build/nano33ble/firmware.elf .pio/build/emu/firmware.elf

# The emulated firmware on the demo run's test split (after `make demo`): accuracy and agreement with the host,
# then the run's report again with them.
hil: firmware
	$(BIN)/host hil --data $(RUN)/data --split test --json $(RUN)/hil.json
	$(BIN)/host report $(RUN)

# Upload the nano33ble image: Arduino's bossac through the USB bootloader, or pyOCD with a SWD probe.
# Options as make variables: PORT=/dev/ttyACM0 BOSSAC=/path PROBE=bossac|pyocd DRY_RUN=1 (tools/flash.sh).
flash: firmware
	@bash tools/flash.sh

# The on-device benchmark (emulator) with the MLPerf Tiny reference model when it is there, and the host
# front end's throughput. MLPERF_MODEL=path/to/mlperf_kws_ref_model.tflite to bench another copy.
MLPERF_MODEL ?= ../shared/models/mlperf_kws_ref_model.tflite
bench: firmware
	@mkdir -p build/bench
	$(BIN)/host bench --json build/bench/bench.json $(if $(wildcard $(MLPERF_MODEL)),--model mlperf_ref=$(MLPERF_MODEL))
	$(BIN)/host bench frontend --json build/bench/frontend.json

# Leave-one-engine-out on the demo run: four engines x with/without distillation, eight trainings of about
# 10 minutes each on 2 cores.
bench-loeo: venv
	$(BIN)/host bench loeo --run $(RUN)

# libFuzzer on the firmware's C (front end, detector, kernels) with ASan and UBSan, FUZZ_SECONDS a harness
# (CI runs 20 s each in tests/test_fuzz.py); new inputs that add coverage are merged into tests/fuzz/corpus/.
FUZZ_SECONDS ?= 600
fuzz: setup
	$(BIN)/python tests/fuzz/fuzzers.py --seconds $(FUZZ_SECONDS) --grow

clean:
	rm -rf .pio build runs/demo
