"""`host data folder` brings in users' own recordings: odd formats are normalised with a warning, broken
files are named and fail the import unless skipped, and nothing is half-written."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from nanokws.config import RunConfig
from nanokws.data.folder import import_folder
from nanokws.data.manifest import read_manifest
from nanokws.errors import DatasetError
from nanokws.progress import NullReporter


def _tone(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 440 * t)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


def _good_folder(root: Path) -> Path:
    """Keywords from 10 speakers, two filler words and background noise, all 16 kHz mono 1 s."""
    for word in ("yes", "no", "bed", "marvin"):
        (root / word).mkdir(parents=True)
        for spk in range(10):
            sf.write(root / word / f"spk{spk:02d}_nohash_0.wav", _tone(1.0, 16000), 16000, subtype="PCM_16")
    (root / "_background_noise_").mkdir()
    rng = np.random.default_rng(0)
    sf.write(root / "_background_noise_" / "white.wav", rng.standard_normal(5 * 16000) * 0.1, 16000)
    return root


def _import(src: Path, out: Path, **kw):
    return import_folder(src, out, RunConfig(), reporter=NullReporter(), jobs=1, **kw)


def test_a_clean_folder_imports_with_speaker_disjoint_splits(tmp_path: Path) -> None:
    src = _good_folder(tmp_path / "src")
    result = _import(src, tmp_path / "out")
    labels = Counter(e.label for e in result.entries)
    assert labels["yes"] == labels["no"] == 10
    # 20 filler clips, capped per split at ceil(10% of that split's keyword clips)
    for split in ("train", "validation", "test"):
        known = sum(e.split == split and e.label in ("yes", "no") for e in result.entries)
        unknown = sum(e.split == split and e.label == "_unknown_" for e in result.entries)
        assert unknown <= math.ceil(known / 10)
    assert 0 < labels["_unknown_"] < 20
    assert labels["_silence_"] >= 1  # cut from the background noise
    splits_of = {}
    for e in result.entries:
        if e.label != "_silence_":
            splits_of.setdefault(e.speaker, set()).add(e.split)
    assert all(len(s) == 1 for s in splits_of.values())
    assert read_manifest(tmp_path / "out") == result.entries


def test_official_split_lists_are_honoured(tmp_path: Path) -> None:
    src = _good_folder(tmp_path / "src")
    (src / "testing_list.txt").write_text("yes/spk00_nohash_0.wav\n")
    (src / "validation_list.txt").write_text("no/spk00_nohash_0.wav\n")
    result = _import(src, tmp_path / "out", recipe_percent=None)
    split = {e.path: e.split for e in result.entries}
    assert split["yes/spk00_nohash_0.wav"] == "test" and split["no/spk00_nohash_0.wav"] == "validation"


@pytest.mark.parametrize(
    ("name", "data", "rate", "subtype", "warning"),
    [
        ("48k.wav", _tone(1.0, 48000), 48000, "PCM_16", "resampled to 16000 Hz: 1 at 48000 Hz"),
        ("8k.wav", _tone(1.0, 8000), 8000, "PCM_16", "1 at 8000 Hz"),
        ("stereo.wav", _tone(1.0, 16000, 2), 16000, "PCM_16", "mixed down to mono: 1"),
        ("8bit.wav", _tone(1.0, 16000), 16000, "PCM_U8", None),
        ("short.wav", _tone(0.3, 16000), 16000, "PCM_16", "zero-padded to the clip length: 1"),
        ("long.wav", _tone(3.0, 16000), 16000, "PCM_16", "centre-cropped to the clip length: 1"),
        ("float.wav", _tone(1.0, 16000), 16000, "FLOAT", None),
    ],
)
def test_odd_but_valid_audio_is_normalised_with_a_warning(tmp_path, name, data, rate, subtype, warning) -> None:
    src = _good_folder(tmp_path / "src")
    sf.write(src / "yes" / name, data, rate, subtype=subtype)
    result = _import(src, tmp_path / "out", recipe_percent=None)
    entry = next(e for e in result.entries if e.path == f"yes/{Path(name).stem}.wav")
    info = sf.info(str(tmp_path / "out" / entry.path))
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (16000, 1, 16000, "PCM_16")
    x, _ = sf.read(str(tmp_path / "out" / entry.path))
    assert 0.2 < np.abs(x).max() < 0.4  # the tone survived at its level
    warnings = "\n".join(result.stats.warnings(16000))
    if warning:
        assert warning in warnings
    else:
        assert warnings == ""


def _write_bad(folder: Path, kind: str) -> Path:
    p = folder / f"bad_{kind}.wav"
    good = folder / "spk00_nohash_0.wav"
    if kind == "corrupt":
        p.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10)
    elif kind == "empty":
        p.write_bytes(b"")
    elif kind == "truncated":
        p.write_bytes(good.read_bytes()[:30])
    elif kind == "no-samples":
        sf.write(p, np.zeros(0), 16000)
    elif kind == "nan":
        sf.write(p, np.full(16000, np.nan), 16000, subtype="FLOAT")
    return p


BAD_KINDS = ["corrupt", "empty", "truncated", "no-samples", "nan"]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_unreadable_files_are_named_and_fail_the_import(tmp_path: Path, kind: str) -> None:
    src = _good_folder(tmp_path / "src")
    bad = _write_bad(src / "yes", kind)
    with pytest.raises(DatasetError) as e:
        _import(src, tmp_path / "out")
    assert str(bad) in e.value.message and "--skip-bad" in e.value.message


def test_skip_bad_leaves_unreadable_files_out_and_counts_them(tmp_path: Path) -> None:
    src = _good_folder(tmp_path / "src")
    for kind in BAD_KINDS:
        _write_bad(src / "yes", kind)
    result = _import(src, tmp_path / "out", skip_bad=True, recipe_percent=None)
    assert len(result.stats.bad) == len(BAD_KINDS)
    assert not any("bad_" in e.path for e in result.entries)
    assert sum(e.label == "yes" for e in result.entries) == 10


def test_an_empty_class_folder_is_an_error_that_names_it(tmp_path: Path) -> None:
    src = _good_folder(tmp_path / "src")
    (src / "left").mkdir()
    with pytest.raises(DatasetError) as e:
        _import(src, tmp_path / "out")
    assert "'left'" in e.value.message


def test_a_dataset_path_that_is_a_file_or_missing_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "file.wav"
    f.write_bytes(b"x")
    with pytest.raises(DatasetError, match="is a file"):
        _import(f, tmp_path / "out")
    with pytest.raises(DatasetError, match="not found"):
        _import(tmp_path / "nowhere", tmp_path / "out")


def test_manifest_paths_outside_the_dataset_are_rejected(tmp_path: Path) -> None:
    src = _good_folder(tmp_path / "src")
    out = tmp_path / "out"
    _import(src, out)
    manifest = out / "manifest.jsonl"
    for evil in ("../../etc/passwd", "/etc/passwd", "yes/../../x.wav"):
        line = json.loads(manifest.read_text().splitlines()[0]) | {"path": evil}
        manifest.write_text(json.dumps(line) + "\n")
        with pytest.raises(DatasetError, match="outside the dataset"):
            read_manifest(out)


def _host(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nanokws.cli", *args], capture_output=True, text=True, timeout=300)


def test_cli_failure_is_one_clear_message_and_leaves_no_data_behind(tmp_path: Path) -> None:
    src = _good_folder(tmp_path / "src")
    _write_bad(src / "no", "corrupt")
    run = tmp_path / "run"
    r = _host("data", "folder", str(src), "--run", str(run), "--jobs", "1")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "bad_corrupt.wav" in r.stderr and "--skip-bad" in r.stderr
    assert not (run / "data").exists()
    assert not [p for p in run.iterdir() if p.name.startswith(".data")]  # no temporary folder left over
    r = _host("data", "folder", str(src), "--run", str(run), "--jobs", "1", "--skip-bad")
    assert r.returncode == 0, r.stderr
    assert "skipped 1 unreadable file" in r.stdout
    assert (run / "data" / "manifest.jsonl").is_file()
