"""The human-speech teacher: Whisper tiny.en's frozen encoder from the installed package, a head trained on
the run's clips, cached embeddings, and a clear failure for a hub id when the hub cannot be reached."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nanokws.audio import read_wav_int16
from nanokws.labels import LABELS
from nanokws.progress import NullReporter
from nanokws.soft_labels import soft_labels
from nanokws.teacher.base import HintTeacher, SegmentHintTeacher, Teacher, TeacherError
from nanokws.teacher.config import TeacherConfig
from nanokws.teacher.whisper import EMBEDDINGS_NAME, TEACHER_DIR, WhisperEncoder, model_dir, train_whisper_teacher

FAST = TeacherConfig(source="whisper", head_epochs=20)


@pytest.fixture(scope="module")
def encoder() -> WhisperEncoder:
    return WhisperEncoder(model_dir("whisper"))


def test_packaged_encoder_embeds_one_second_clips_deterministically(encoder: WhisperEncoder, small_synth) -> None:
    root, result = small_synth
    audio = np.stack([read_wav_int16(root / e.path)[0] for e in result.entries[:3]])
    a, b = encoder.embed(audio), encoder.embed(audio[::-1])
    assert a.shape == (3, 7 * 384) and np.all(np.isfinite(a))
    np.testing.assert_allclose(a, b[::-1], atol=1e-4)  # batch order does not matter
    assert not np.allclose(a[0], a[1])


def test_head_learns_the_run_and_the_stage_is_cached(small_synth, tmp_path: Path) -> None:
    root, result = small_synth
    first = train_whisper_teacher(tmp_path, LABELS, result.entries, root, FAST, reporter=NullReporter())
    assert isinstance(first.teacher, Teacher) and not first.skipped
    assert first.history["loss"][-1] < first.history["loss"][0]
    assert (tmp_path / TEACHER_DIR / EMBEDDINGS_NAME).is_file()
    again = train_whisper_teacher(tmp_path, LABELS, result.entries, root, FAST, reporter=NullReporter())
    assert again.skipped and again.teacher.fingerprint() == first.teacher.fingerprint()
    train = [e for e in result.entries if e.split == "train"]
    logits = soft_labels(tmp_path, first.teacher, train, root)
    assert logits.shape == (len(train), 12)
    # On its own training clips the head is right far more often than chance (1/12).
    y = np.array([LABELS.index(e.label) for e in train])
    assert np.mean(logits.argmax(1) == y) > 0.5
    # the states it shows for hint distillation: the encoder's mean and max, from the same pass as the logits
    assert isinstance(first.teacher, HintTeacher)
    audio = np.stack([read_wav_int16(root / e.path)[0] for e in train[:4]])
    both, hints = first.teacher.logits_and_hints(audio)
    np.testing.assert_allclose(both, first.teacher.logits(audio), atol=1e-5)
    np.testing.assert_allclose(hints, first.teacher.encoder.embed(audio)[:, : 2 * 384], atol=1e-5)
    # and, for time-aligned hints, the mean states of five consecutive 200 ms stretches, in order
    assert isinstance(first.teacher, SegmentHintTeacher)
    again, same, segments = first.teacher.logits_hints_and_segments(audio)
    np.testing.assert_allclose(again, both, atol=1e-5)
    np.testing.assert_allclose(same, hints, atol=1e-5)
    assert segments.shape == (4, 5, 384)
    np.testing.assert_allclose(segments.mean(axis=1), hints[:, :384], rtol=1e-3, atol=1e-4)


def test_a_changed_head_setting_retrains_but_reuses_the_embeddings(small_synth, tmp_path: Path) -> None:
    root, result = small_synth
    train_whisper_teacher(tmp_path, LABELS, result.entries, root, FAST, reporter=NullReporter())
    cache = tmp_path / TEACHER_DIR / EMBEDDINGS_NAME
    before = cache.stat().st_mtime_ns
    other = TeacherConfig(source="whisper", head_epochs=5)
    outcome = train_whisper_teacher(tmp_path, LABELS, result.entries, root, other, reporter=NullReporter())
    assert not outcome.skipped and len(outcome.history["loss"]) == 5
    assert cache.stat().st_mtime_ns == before  # nothing new to embed


def test_a_local_directory_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TeacherError, match=r"no model\.bin"):
        model_dir(f"whisper:{tmp_path}")


def test_a_hub_id_offline_fails_with_a_message_that_points_to_the_packaged_model(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        from nanokws.teacher.base import TeacherError
        from nanokws.teacher.whisper import model_dir
        try:
            model_dir("whisper:Systran/faster-whisper-tiny.en")
        except TeacherError as e:
            print(e.message, "|", e.hint)
        """
    )
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "cannot download the Whisper model 'Systran/faster-whisper-tiny.en'" in r.stdout
    assert "--teacher whisper" in r.stdout
