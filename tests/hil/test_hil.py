"""Hardware in the loop: the real `emu` firmware image in QEMU, on at least 200 synthetic clips and a 60 s
stream. Its int8 model outputs equal those of the same C code compiled for the host, bit for bit; its class
equals the Python int8 pipeline's; its detections equal the Python twin's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import GENERATED, host
from nanokws.audio import load_stream, read_wav_int16, write_wav
from nanokws.codegen.host_build import build_app_executable, run_app
from nanokws.data.streams import make_stream
from nanokws.hil.clips import clip_layout, clip_outputs, clips_stream
from nanokws.hil.console import parse_console
from nanokws.hil.emulator import Qemu
from nanokws.hil.firmware import build_image
from nanokws.hil.harness import classify_on_firmware, compare_on_stream, host_outputs
from nanokws.progress import NullReporter
from nanokws.spot import spot_file
from nanokws.tflite.metadata import ModelInfo, model_info

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_image("emu", tmp_path_factory.mktemp("pio-build"))


@pytest.fixture(scope="module")
def model() -> tuple[bytes, ModelInfo]:
    data = (GENERATED / "model_int8.tflite").read_bytes()
    return data, model_info(data)


@pytest.fixture(scope="module")
def clips(hil_synth) -> tuple[np.ndarray, np.ndarray]:
    root, result = hil_synth
    audio = np.stack([read_wav_int16(root / e.path)[0] for e in result.entries])
    return audio, np.array([e.label for e in result.entries])


def test_emulated_firmware_equals_host_c_bit_for_bit_and_python_int8_by_class(
    elf: Path, model: tuple[bytes, ModelInfo], clips: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    data, info = model
    audio, _ = clips
    assert len(audio) >= 200
    firmware = classify_on_firmware(Qemu(), elf, audio, info, reporter=NullReporter())

    layout = clip_layout(info)
    app = build_app_executable(GENERATED, tmp_path, sanitize=False)
    console = parse_console(run_app(app, clips_stream(audio, layout), scores=True))
    host_c = clip_outputs(console.score_times_ms, console.outputs, len(audio), layout)
    np.testing.assert_array_equal(firmware.outputs, host_c)

    python = host_outputs(audio, data, info)
    agreement = np.mean(firmware.outputs.argmax(axis=1) == python.argmax(axis=1))
    assert agreement >= 0.995
    # The compiled model is bit-exact with TFLM and the features are the trainer's: in fact all outputs agree.
    np.testing.assert_array_equal(firmware.outputs, python)
    # The instruction counter works and is plausible for a DS-CNN of ~2.7 M MACs on portable kernels.
    assert 1e6 < firmware.instructions_per_inference < 2e8 and 1e3 < firmware.instructions_per_hop < 1e6


def test_emulated_firmware_detects_what_the_python_twin_detects_on_a_60_s_stream(
    elf: Path, model: tuple[bytes, ModelInfo], clips: tuple[np.ndarray, np.ndarray]
) -> None:
    data, info = model
    audio, labels = clips
    keywords = [i for i, label in enumerate(labels) if not label.startswith("_")][::5]
    stream, _ = make_stream(audio[keywords], list(labels[keywords]), seconds=60, sample_rate=16000)
    result = compare_on_stream(Qemu(), elf, stream, data, info)
    assert result.firmware == result.twin
    assert len(result.firmware) >= 5  # the comparison is not between two empty lists
    assert result.console.summary["overruns"] == 0


def test_host_hil_on_a_speech_commands_folder_writes_its_json(hil_synth, tmp_path: Path) -> None:
    root, result = hil_synth
    for i, e in enumerate(e for e in result.entries if e.label in ("yes", "no", "stop")):
        target = tmp_path / "data" / e.label / f"speaker{i}_nohash_0.wav"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / e.path, target)
    r = host("hil", "--data", str(tmp_path / "data"), "--json", str(tmp_path / "hil.json"))
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((tmp_path / "hil.json").read_text())
    assert {"accuracy", "agreement", "n", "instructions_per_inference", "instructions_per_hop"} <= set(report)
    assert report["n"] == 60 and report["agreement"] == 1.0 and report["bit_exact"] == 1.0
    # what `host report` needs: the firmware's confusion matrix, and which model and clips it is about
    assert sum(map(sum, report["confusion"])) == 60 and len(report["labels"]) == len(report["confusion"])
    assert report["split"] is None and len(report["model_sha256"]) == 64


def test_host_hil_needs_exactly_one_input() -> None:
    r = host("hil")
    assert r.returncode == 2 and "give one of --data" in r.stderr and "Traceback" not in r.stderr


def test_host_spot_finds_what_the_emulated_firmware_detects(
    elf: Path, model: tuple[bytes, ModelInfo], clips: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    data, info = model
    audio, labels = clips
    keywords = [i for i, label in enumerate(labels) if not label.startswith("_")][1::5]
    stream, _ = make_stream(audio[keywords], list(labels[keywords]), seconds=60, sample_rate=16000, seed=7)
    path = tmp_path / "stream.wav"
    write_wav(path, stream, 16000)
    firmware = compare_on_stream(Qemu(), elf, load_stream(path, 16000), data, info).firmware
    spotted = spot_file(path, data)
    assert [f"{round(o.end * 1000)} {o.label}" for o in spotted.occurrences] == [
        " ".join(line.split()[:2]) for line in firmware
    ]
    assert len(firmware) >= 5
