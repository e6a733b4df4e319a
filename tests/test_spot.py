"""`host spot`: keyword occurrences in long recordings, decoded block by block, equal to the firmware loop's
detections on the same audio; unreadable files are named, skipped and reflected in the exit status."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import GENERATED, host
from nanokws.audio import iter_stream, load_stream, write_wav
from nanokws.spot import spot_file
from nanokws.stream import StreamDetector, run_stream
from nanokws.tflite.metadata import model_info

MODEL = GENERATED / "model_int8.tflite"


@pytest.fixture(scope="module")
def recording(keyword_stream, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    audio, events = keyword_stream
    path = tmp_path_factory.mktemp("spot") / "stream.wav"
    write_wav(path, audio, 16000)
    return path, events


def test_spot_reports_what_the_firmware_loop_detects(recording: tuple[Path, list]) -> None:
    path, events = recording
    model = MODEL.read_bytes()
    twin = run_stream(load_stream(path, 16000), model, model_info(model))
    spotted = spot_file(path, model)
    assert spotted.error is None and spotted.audio_seconds == pytest.approx(60.0)
    assert [(o.label, round(o.end * 1000)) for o in spotted.occurrences] == [
        (d.label, d.time_ms) for d in twin.detections
    ]
    assert len(spotted.occurrences) >= 5
    hits = sum(any(e.label == o.label and e.start_ms / 1000 <= o.end <= e.end_ms / 1000 + 1 for e in events)
               for o in spotted.occurrences)  # fmt: skip
    assert hits >= len(spotted.occurrences) // 2


def test_stream_detections_do_not_depend_on_the_block_size(recording: tuple[Path, list]) -> None:
    path, _ = recording
    model = MODEL.read_bytes()
    info = model_info(model)
    whole = run_stream(load_stream(path, 16000), model, info)
    detector = StreamDetector(model, info)
    pieces = [detector.feed(b) for b in iter_stream(path, 16000, block_seconds=0.37)]
    np.testing.assert_array_equal(np.concatenate([p.outputs for p in pieces]), whole.outputs)
    assert [d for p in pieces for d in p.detections] == list(whole.detections)


def test_other_rates_and_channels_are_decoded_in_blocks_without_seams(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    stereo = rng.uniform(-0.5, 0.5, (44100 * 3, 2)).astype(np.float32)
    sf.write(tmp_path / "stereo.flac", stereo, 44100)
    big = np.concatenate(list(iter_stream(tmp_path / "stereo.flac", 16000, block_seconds=30)))
    small = np.concatenate(list(iter_stream(tmp_path / "stereo.flac", 16000, block_seconds=0.1)))
    assert big.dtype == np.int16 and abs(big.size - 48000) <= 1
    np.testing.assert_array_equal(big, small)


def test_cli_writes_the_index_and_names_unreadable_files(recording: tuple[Path, list], tmp_path: Path) -> None:
    path, _ = recording
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF but not really")
    out = tmp_path / "index.jsonl"
    r = host("spot", str(path), str(bad), "--out", str(out))
    assert r.returncode == 1, r.stderr
    assert "broken.wav" in r.stderr and "1 file(s) skipped" in r.stderr and "Traceback" not in r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and set(rows[0]) == {"file", "label", "start", "end", "score"}
    assert all(row["file"] == str(path) and row["end"] > row["start"] for row in rows)
    r = host("spot", str(tmp_path / "missing"))
    assert r.returncode == 2 and "no such file or folder" in r.stderr
