"""`host data synth` makes a complete, speaker-disjoint, reproducible dataset in the Speech Commands layout."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile as sf

from conftest import SMALL_SYNTH
from nanokws.config import RunConfig, SplitConfig
from nanokws.data.manifest import SPLITS, read_manifest
from nanokws.data.splits import split_of
from nanokws.data.synth import SynthResult, plan_clips, synthesize
from nanokws.labels import BACKGROUND_NOISE_DIR, FILLER_WORDS, KEYWORDS, LABELS


def test_every_class_has_the_requested_number_of_clips(small_entries) -> None:
    counts = Counter(e.label for e in small_entries)
    assert set(counts) == set(LABELS)
    assert all(n == 6 for n in counts.values())


def test_clips_are_16k_mono_int16_one_second_in_word_folders(small_synth: tuple[Path, SynthResult]) -> None:
    root, result = small_synth
    assert (root / BACKGROUND_NOISE_DIR).is_dir() and len(list((root / BACKGROUND_NOISE_DIR).glob("*.wav"))) >= 5
    for e in result.entries:
        info = sf.info(str(root / e.path))
        assert (info.samplerate, info.channels, info.frames, info.subtype) == (16000, 1, 16000, "PCM_16")
        assert e.path.split("/")[0] == e.word
        assert e.label in (e.word, "_unknown_")
    assert read_manifest(root) == result.entries


def test_speech_clips_are_not_silent_and_not_clipped(small_synth: tuple[Path, SynthResult]) -> None:
    root, result = small_synth
    for e in result.entries:
        x, _ = sf.read(str(root / e.path), dtype="int16")
        peak = int(np.abs(x.astype(np.int32)).max())
        if e.label != "_silence_":
            assert 300 < peak < 32767, f"{e.path}: peak {peak}"


def test_splits_are_disjoint_by_speaker(small_entries) -> None:
    speakers = {s: {e.speaker for e in small_entries if e.split == s} for s in SPLITS}
    assert not speakers["train"] & speakers["validation"]
    assert not speakers["train"] & speakers["test"]
    assert not speakers["validation"] & speakers["test"]


def test_voices_of_one_recorded_speaker_share_a_split() -> None:
    # flite's kal and festival's kal_diphone come from the same CMU recordings
    plans = plan_clips(SMALL_SYNTH, RunConfig())
    by_speaker: dict[str, set[str]] = {}
    for p in plans:
        if p.render is not None:
            by_speaker.setdefault(p.speaker, set()).add(p.split)
    assert all(len(splits) == 1 for splits in by_speaker.values())
    kal = {p.render.voice.voice for p in plans if p.render is not None and p.speaker == "cmu-kal"}
    assert kal & {"kal", "kal16"} and "kal_diphone" in kal


def test_split_depends_on_the_speaker_alone_and_is_near_80_10_10() -> None:
    cfg = SplitConfig()
    speakers = [f"speaker-{i}" for i in range(5000)]
    counts = Counter(split_of(s, cfg) for s in speakers)
    assert abs(counts["train"] / 5000 - 0.8) < 0.02
    assert abs(counts["validation"] / 5000 - 0.1) < 0.02
    assert [split_of(s, cfg) for s in speakers[:50]] == [split_of(s, cfg) for s in speakers[:50]]


def test_unknown_clips_use_filler_words_only(small_entries) -> None:
    unknown_words = {e.word for e in small_entries if e.label == "_unknown_"}
    assert unknown_words <= set(FILLER_WORDS) and not unknown_words & set(KEYWORDS)


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.wav")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    h.update((root / "manifest.jsonl").read_bytes())
    return h.hexdigest()


def test_same_seed_gives_the_same_bytes_whatever_the_worker_count(
    small_synth: tuple[Path, SynthResult], tmp_path: Path
) -> None:
    root, _ = small_synth
    again = tmp_path / "again"
    again.mkdir()
    synthesize(again, SMALL_SYNTH, RunConfig(), jobs=1)
    assert _digest(again) == _digest(root)


def test_another_seed_gives_another_dataset() -> None:
    a = plan_clips(SMALL_SYNTH, RunConfig())
    b = plan_clips(SMALL_SYNTH, RunConfig(seed=7))
    assert [p.render for p in a] != [p.render for p in b]
