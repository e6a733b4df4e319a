"""Teacher ensembles (`--teacher whisper+scratch`): members trained in their own directories, answering together
as the mean of their log-probabilities, hints from the member that has them, refused when ill-formed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from nanokws.config import FrontendConfig, RunConfig
from nanokws.labels import LABELS
from nanokws.progress import NullReporter
from nanokws.rundir import open_run
from nanokws.soft_labels import soft_labels
from nanokws.stages.features import load_clips
from nanokws.stages.train import TrainOptions, train
from nanokws.teacher.base import HintTeacher, SegmentHintTeacher, TeacherError
from nanokws.teacher.config import TeacherConfig
from nanokws.teacher.ensemble import (
    TEACHER_DIR,
    EnsembleTeacher,
    HintEnsembleTeacher,
    combine,
    ensemble,
    member_sources,
    teacher_dir_name,
)
from nanokws.teacher.wav2vec2 import TEACHER_DIR as WAV2VEC2_DIR
from nanokws.teacher.whisper import TEACHER_DIR as WHISPER_DIR

# Members small enough for a test: a 7 K-parameter Wav2Vec2 for 4 epochs, a Whisper head for 20.
TINY = TeacherConfig(
    conv_channels=8, hidden_size=16, num_heads=2, intermediate_size=32, pos_conv_kernel=8, pos_conv_groups=2,
    classifier_proj_size=16, dropout=0.0, mask_time_prob=0.0, epochs=4, batch_size=8, learning_rate=5e-3,
    logging_steps=2, head_epochs=20,
)  # fmt: skip


class _Fixed:
    """A teacher that answers every clip with the same logits."""

    def __init__(self, row: list[float], name: str = "fixed", labels: tuple[str, ...] = ("a", "b", "c")) -> None:
        self.row, self._name, self._labels = np.array(row, np.float32), name, labels

    @property
    def name(self) -> str:
        return self._name

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def fingerprint(self) -> str:
        return f"{self._name}:{self.row.tolist()}"

    def logits(self, audio: np.ndarray) -> np.ndarray:
        return np.tile(self.row, (len(audio), 1))


class _WithHints(_Fixed):
    def logits_and_hints(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.logits(audio), np.arange(len(audio), dtype=np.float32)[:, None] * np.ones((1, 4), np.float32)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def test_members_vote_by_the_mean_of_their_log_probabilities() -> None:
    sure, unsure = np.array([[8.0, 0.0, 0.0]]), np.array([[0.0, 0.5, 0.0]])
    joint = combine([sure, unsure])
    np.testing.assert_allclose(joint, (_log_softmax(sure) + _log_softmax(unsure)) / 2, atol=1e-6)
    assert joint.argmax() == 0  # the sure member outweighs the hesitant one
    np.testing.assert_allclose(combine([sure + 5, unsure - 3]), joint, atol=1e-5)  # shifts do not matter
    assert joint.dtype == np.float32


def test_an_ensemble_answers_together_and_its_fingerprint_follows_every_member() -> None:
    a, b = _Fixed([2.0, 0.0, 0.0], "a"), _Fixed([0.0, 3.0, 0.0], "b")
    joint = ensemble([a, b])
    assert type(joint) is EnsembleTeacher and not isinstance(joint, HintTeacher)
    audio = np.zeros((3, 16000), np.int16)
    np.testing.assert_allclose(joint.logits(audio), combine([a.logits(audio), b.logits(audio)]))
    assert joint.labels == ("a", "b", "c") and joint.name == "a + b"
    changed = ensemble([a, _Fixed([0.0, 3.5, 0.0], "b")])
    assert changed.fingerprint() != joint.fingerprint()


def test_hints_come_from_the_member_that_shows_its_states() -> None:
    plain, hinter = _Fixed([0.0, 1.0, 0.0], "plain"), _WithHints([3.0, 0.0, 0.0], "hinter")
    joint = ensemble([plain, hinter])
    assert isinstance(joint, HintEnsembleTeacher) and isinstance(joint, HintTeacher)
    assert not isinstance(joint, SegmentHintTeacher)
    audio = np.zeros((2, 16000), np.int16)
    logits, hints = joint.logits_and_hints(audio)
    np.testing.assert_allclose(logits, joint.logits(audio), atol=1e-6)
    np.testing.assert_array_equal(hints, hinter.logits_and_hints(audio)[1])


def test_members_with_other_labels_are_refused() -> None:
    with pytest.raises(TeacherError, match="different labels"):
        EnsembleTeacher([_Fixed([0, 0, 0]), _Fixed([0, 0], "other", ("a", "b"))])


@pytest.mark.parametrize(
    ("source", "message"),
    [("whisper+", "empty member"), ("whisper+whisper", "two members of one kind"),
     ("scratch+facebook/wav2vec2-base", "two members of one kind")],
)  # fmt: skip
def test_an_ill_formed_ensemble_is_refused_with_what_to_do(source: str, message: str) -> None:
    with pytest.raises(TeacherError, match=message) as e:
        member_sources(source)
    assert "whisper+scratch" in (e.value.hint or "") or "one Whisper" in (e.value.hint or "")


def test_each_teacher_kind_reports_from_its_own_directory() -> None:
    assert teacher_dir_name("whisper+scratch") == TEACHER_DIR
    assert teacher_dir_name("whisper") == WHISPER_DIR
    assert teacher_dir_name("scratch") == teacher_dir_name("facebook/wav2vec2-base") == WAV2VEC2_DIR


@pytest.mark.slow
def test_the_teacher_stage_trains_a_whisper_and_wav2vec2_ensemble(tmp_path: Path, small_synth) -> None:
    run, config = open_run(tmp_path / "run", RunConfig())
    (run.root / "data").symlink_to(small_synth[0], target_is_directory=True)
    cfg = dataclasses.replace(TINY, source="whisper+scratch")
    opts = TrainOptions(stage="teacher", teacher=cfg)
    train(run, config, opts, NullReporter())

    assert (run.root / WHISPER_DIR / "history.json").is_file()  # each member in its own directory
    assert (run.root / WAV2VEC2_DIR / "history.json").is_file()
    history = json.loads((run.root / TEACHER_DIR / "history.json").read_text())
    assert history["source"] == "whisper+scratch" and len(history["members"]) == 2
    assert 0.0 <= history["validation_accuracy"] <= 1.0 and 0.0 <= history["test_accuracy"] <= 1.0

    # The soft labels are the members' combined answers, and the ensemble shows Whisper's states as hints.
    from nanokws.teacher.wav2vec2 import load_teacher
    from nanokws.teacher.whisper import train_whisper_teacher

    entries = [e for e in small_synth[1].entries if e.split == "train"][:6]
    alone = dataclasses.replace(cfg, source="whisper")
    whisper = train_whisper_teacher(run.root, LABELS, small_synth[1].entries, run.data, alone)
    assert whisper.skipped  # trained once, by the ensemble
    wav2vec2 = load_teacher(run.root / WAV2VEC2_DIR, LABELS)
    clips = load_clips(run.data, entries, FrontendConfig())
    joint = ensemble([whisper.teacher, wav2vec2])
    expected = combine([whisper.teacher.logits(clips), wav2vec2.logits(clips)])
    np.testing.assert_allclose(soft_labels(run.root, joint, entries, run.data), expected, atol=1e-4)
    assert isinstance(joint, SegmentHintTeacher)
    _, hints = joint.logits_and_hints(clips)
    np.testing.assert_allclose(hints, whisper.teacher.logits_and_hints(clips)[1], atol=1e-5)

    # The ensemble's training time is its members' (each read back from its own history).
    members = [json.loads((run.root / d / "history.json").read_text()) for d in (WHISPER_DIR, WAV2VEC2_DIR)]
    assert history["train_seconds"] == pytest.approx(sum(m["train_seconds"] for m in members))
    assert all(m["train_seconds"] > 0 for m in members)

    # A second run finds both members up to date, and reports the same training time.
    before = {p: p.stat().st_mtime_ns for p in (run.root / WAV2VEC2_DIR).iterdir()}
    train(run, config, opts, NullReporter())
    assert {p: p.stat().st_mtime_ns for p in (run.root / WAV2VEC2_DIR).iterdir()} == before
    again = json.loads((run.root / TEACHER_DIR / "history.json").read_text())
    assert again["train_seconds"] == history["train_seconds"]
