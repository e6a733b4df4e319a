"""`host data gsc` maps the real data set's schema to the 12 classes with the standard recipe, and fails
offline with a way forward."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import datasets
import numpy as np
import pytest
import soundfile as sf

from nanokws.config import RunConfig
from nanokws.data.gsc import import_gsc, load_from_hub
from nanokws.errors import DatasetError
from nanokws.labels import KEYWORDS
from nanokws.progress import NullReporter

# google/speech_commands v0.01: 30 words and `_silence_` (the background noise recordings).
V001_NAMES = [
    "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "zero", "one", "two", "three",
    "four", "five", "six", "seven", "eight", "nine", "bed", "bird", "cat", "dog", "happy", "house", "marvin",
    "sheila", "tree", "wow", "_silence_",
]  # fmt: skip
FEATURES = datasets.Features(
    {
        "file": datasets.Value("string"),
        "audio": datasets.Audio(sampling_rate=16000),
        "label": datasets.ClassLabel(names=V001_NAMES),
        "is_unknown": datasets.Value("bool"),
        "speaker_id": datasets.Value("string"),
        "utterance_id": datasets.Value("int8"),
    }
)


def _wav(seconds: float, rng: np.random.Generator) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, (rng.standard_normal(int(16000 * seconds)) * 2000).astype(np.int16), 16000, format="WAV")
    return buf.getvalue()


def _split(split: str, per_word: int, rng: np.random.Generator) -> datasets.Dataset:
    rows: dict[str, list] = {k: [] for k in FEATURES}
    for label, word in enumerate(V001_NAMES):
        if word == "_silence_":
            n = 2 if split != "test" else per_word
            seconds = 5.0 if split != "test" else 1.0
        else:
            n, seconds = per_word, 1.0
        for i in range(n):
            speaker = None if word == "_silence_" else f"{split}{i % 3:02x}abcd"
            rows["file"].append(f"{word}/{speaker or 'noise'}_nohash_{i}.wav")
            rows["audio"].append({"bytes": _wav(seconds, rng), "path": None})
            rows["label"].append(label)
            rows["is_unknown"].append(word not in KEYWORDS and word != "_silence_")
            rows["speaker_id"].append(speaker)
            rows["utterance_id"].append(i)
    # Encoding an Audio column needs torchcodec; the hub's parquet files hold the encoded struct already,
    # so build that struct and cast it to the real schema, as loading from the hub does.
    raw = FEATURES.copy()
    raw["audio"] = {"bytes": datasets.Value("binary"), "path": datasets.Value("string")}
    return datasets.Dataset.from_dict(rows, features=raw).cast(FEATURES)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory):
    rng = np.random.default_rng(42)
    splits = {s: _split(s, 4, rng) for s in ("train", "validation", "test")}
    out = tmp_path_factory.mktemp("gsc")
    return out, import_gsc(splits, out, RunConfig(), jobs=2, reporter=NullReporter())


def test_keywords_keep_their_class_and_other_words_become_unknown(imported) -> None:
    _, result = imported
    for e in result.entries:
        if e.word in KEYWORDS:
            assert e.label == e.word
        elif e.word == "_silence_":
            assert e.label == "_silence_"
        else:
            assert e.label == "_unknown_"
    assert {e.label for e in result.entries} == {"_silence_", "_unknown_", *KEYWORDS}


def test_train_and_validation_get_about_ten_percent_unknown_and_silence(imported) -> None:
    _, result = imported
    for split in ("train", "validation"):
        c = Counter(e.label for e in result.entries if e.split == split)
        known = sum(c[k] for k in KEYWORDS)  # 40 keyword clips: ceil(4.0) of each
        assert c["_unknown_"] == 4 and c["_silence_"] == 4, (split, c, known)
    assert result.unknown_dropped == 2 * (20 * 4 - 4)


def test_official_test_split_is_kept_as_published(imported) -> None:
    _, result = imported
    c = Counter(e.label for e in result.entries if e.split == "test")
    assert c["_unknown_"] == 20 * 4 and c["_silence_"] == 4


def test_clips_are_written_normalised_with_background_noise(imported) -> None:
    root, result = imported
    assert len(list((root / "_background_noise_").glob("*.wav"))) >= 1
    for e in result.entries[:50]:
        info = sf.info(str(root / e.path))
        assert (info.samplerate, info.channels, info.frames) == (16000, 1, 16000)


def test_speakers_do_not_cross_splits(imported) -> None:
    _, result = imported
    by_split = {
        s: {e.speaker for e in result.entries if e.split == s and e.label != "_silence_"}
        for s in ("train", "validation", "test")
    }
    assert not by_split["train"] & by_split["test"]


def test_unreachable_hub_fails_with_a_clear_message_naming_the_alternative(tmp_path: Path, monkeypatch) -> None:
    def no_network(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'google/speech_commands' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", no_network)
    with pytest.raises(DatasetError) as e:
        load_from_hub(tmp_path)
    assert "host data folder" in e.value.message


def test_cli_gsc_offline_exits_non_zero_without_traceback(tmp_path: Path) -> None:
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "nanokws.cli", "data", "gsc", "--run", str(tmp_path / "run")]
    r = subprocess.run([*cmd, "--cache-dir", str(tmp_path)], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "host data folder" in r.stderr
