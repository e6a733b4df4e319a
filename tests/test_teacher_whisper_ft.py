"""The fine-tuned Whisper teacher (`--teacher whisper-ft`): the packaged CTranslate2 weights read back into
transformers' `WhisperForAudioClassification` compute what CTranslate2 computes, fine-tuning trains, saves,
resumes and is found up to date, and the hub path fails offline with what to do."""

from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from nanokws.audio import read_wav_int16
from nanokws.labels import LABELS
from nanokws.progress import NullReporter
from nanokws.teacher.base import SegmentHintTeacher, TeacherError
from nanokws.teacher.config import TeacherConfig
from nanokws.teacher.ct2_weights import read_ct2
from nanokws.teacher.ensemble import member_sources, teacher_history_path
from nanokws.teacher.whisper import WhisperEncoder, model_dir
from nanokws.teacher.whisper_ft import (
    CHECKPOINT_DIR,
    TEACHER_DIR,
    SpecMask,
    ct2_dir,
    layer_groups,
    log_mel,
    samples_drawn,
    train_whisper_ft_teacher,
    whisper_classifier,
)

TINY = TeacherConfig(source="whisper-ft", whisper_epochs=2, batch_size=16, logging_steps=2)


def _audio(root: Path, entries: list, n: int) -> np.ndarray:
    return np.stack([read_wav_int16(root / e.path)[0] for e in entries[:n]])


def test_packaged_weights_in_transformers_compute_what_ctranslate2_computes(small_synth) -> None:
    import torch
    from transformers import WhisperFeatureExtractor

    root, result = small_synth
    directory = model_dir("whisper")
    model = whisper_classifier(directory, read_ct2(directory / "model.bin"), LABELS, 100, 42).eval()
    audio = _audio(root, result.entries, 6)
    mel = log_mel(WhisperFeatureExtractor(feature_size=80), audio, 100)
    with torch.no_grad():
        ours = model.encoder(torch.from_numpy(mel)).last_hidden_state.numpy()
    # CTranslate2's own encoder (int8 arithmetic) on the same input, through the frozen teacher's pooling.
    reference = WhisperEncoder(directory).embed(audio)
    n, _t, d = ours.shape
    pooled = np.concatenate([ours.mean(1), ours.max(1), ours.reshape(n, 5, -1, d).mean(2).reshape(n, -1)], axis=1)
    assert pooled.shape == reference.shape
    assert np.corrcoef(pooled.ravel(), reference.ravel())[0, 1] > 0.99
    # and far from a model whose encoder was not loaded
    fresh = whisper_classifier(directory, read_ct2(directory / "model.bin"), LABELS, 100, 42)
    with torch.no_grad():
        for p in fresh.encoder.layers[0].parameters():
            p.normal_()
        other = fresh.encoder(torch.from_numpy(mel)).last_hidden_state.numpy()
    assert np.corrcoef(other.ravel(), ours.ravel())[0, 1] < 0.9


def test_layer_groups_lower_the_rate_layer_by_layer_and_cover_every_weight() -> None:
    directory = model_dir("whisper")
    model = whisper_classifier(directory, read_ct2(directory / "model.bin"), LABELS, 100, 42)
    cfg = TeacherConfig(source="whisper-ft", whisper_learning_rate=1e-4, whisper_layer_decay=0.5)
    groups = layer_groups(model, cfg)
    rates = [g["lr"] for g in groups]
    assert rates[0] == cfg.whisper_head_learning_rate
    assert rates[1:] == pytest.approx([1e-4 * 0.5**k for k in range(len(groups) - 1)])
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert {id(p) for g in groups for p in g["params"]} == trainable
    assert not model.encoder.embed_positions.weight.requires_grad  # Whisper's positional table stays fixed


def test_fine_tuning_trains_saves_and_is_then_up_to_date(small_synth, tmp_path: Path) -> None:
    root, result = small_synth
    first = train_whisper_ft_teacher(tmp_path, LABELS, result.entries, root, TINY, reporter=NullReporter())
    assert not first.skipped and first.fine_tuned
    h = first.history
    assert h["steps"] == 2 * h["steps_per_epoch"] and len(h["eval"]) == 2
    assert 0.0 <= h["validation_accuracy"] <= 1.0
    assert (tmp_path / TEACHER_DIR / "model.safetensors").is_file()
    assert not (tmp_path / CHECKPOINT_DIR).exists()  # checkpoints are only for resuming
    assert teacher_history_path(tmp_path, "whisper-ft") == tmp_path / TEACHER_DIR / "history.json"
    teacher = first.teacher
    assert isinstance(teacher, SegmentHintTeacher)
    audio = _audio(root, result.entries, 5)
    logits, hints, segments = teacher.logits_hints_and_segments(audio)
    assert logits.shape == (5, 12) and hints.shape == (5, 768) and segments.shape == (5, 5, 384)
    np.testing.assert_allclose(teacher.logits(audio[::-1]), logits[::-1], atol=1e-4)  # batch order does not matter
    # The whole training is learned: the loss falls.
    losses = [row["loss"] for row in h["train"]]
    assert losses[-1] < losses[0]

    again = train_whisper_ft_teacher(tmp_path, LABELS, result.entries, root, TINY, reporter=NullReporter())
    assert again.skipped and again.teacher.fingerprint() == teacher.fingerprint()
    np.testing.assert_allclose(again.teacher.logits(audio), logits, atol=1e-5)


def test_an_interrupted_fine_tuning_resumes_to_the_same_weights(small_synth, tmp_path: Path) -> None:
    root, result = small_synth
    whole = train_whisper_ft_teacher(tmp_path / "whole", LABELS, result.entries, root, TINY, reporter=NullReporter())

    class Stop(Exception):
        pass

    import nanokws.teacher.hf_training as hf

    class Interrupting(hf.EpochChecksums):
        def on_save(self, args, state, control, **kw):
            raise Stop

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hf, "EpochChecksums", Interrupting)
        with pytest.raises(Stop):
            train_whisper_ft_teacher(tmp_path / "cut", LABELS, result.entries, root, TINY, reporter=NullReporter())
    assert not (tmp_path / "cut" / TEACHER_DIR).exists()  # nothing half-written
    assert any((tmp_path / "cut" / CHECKPOINT_DIR).glob("checkpoint-*"))
    resumed = train_whisper_ft_teacher(
        tmp_path / "cut", LABELS, result.entries, root, TINY, resume=True, reporter=NullReporter()
    )
    assert resumed.history["resumed_from"] == "checkpoint-" + str(whole.history["steps_per_epoch"])
    assert resumed.history["steps"] == whole.history["steps"]
    # Every epoch, before the cut and after it, is the uninterrupted run's, weight for weight: the data order,
    # dropout and the SpecAugment masks all carry on where they were.
    epochs = [c["param_sha256"] for c in resumed.history["checksums"]]
    assert epochs == [c["param_sha256"] for c in whole.history["checksums"]]
    assert len(resumed.history["eval"]) == 2
    np.testing.assert_array_equal(resumed.teacher.logits(_audio(root, result.entries, 4)),
                                  whole.teacher.logits(_audio(root, result.entries, 4)))  # fmt: skip


def test_a_changed_setting_fine_tunes_again(small_synth, tmp_path: Path) -> None:
    root, result = small_synth
    cfg = dataclasses.replace(TINY, whisper_epochs=1)
    first = train_whisper_ft_teacher(tmp_path, LABELS, result.entries, root, cfg, reporter=NullReporter())
    other = dataclasses.replace(cfg, whisper_layer_decay=0.5)
    second = train_whisper_ft_teacher(tmp_path, LABELS, result.entries, root, other, reporter=NullReporter())
    assert not second.skipped and second.teacher.fingerprint() != first.teacher.fingerprint()


def test_a_hub_id_offline_fails_with_what_to_do() -> None:
    with pytest.raises(TeacherError) as err:
        ct2_dir("whisper-ft:nobody/not-a-whisper-model")
    assert "whisper" in (err.value.hint or "")


def test_a_fine_tuned_whisper_joins_an_ensemble_but_not_twice() -> None:
    assert member_sources("whisper-ft+scratch") == ("whisper-ft", "scratch")
    assert member_sources("whisper+whisper-ft") == ("whisper", "whisper-ft")
    with pytest.raises(TeacherError, match="two members of one kind"):
        member_sources("whisper-ft+whisper-ft")


def test_a_model_file_that_is_not_ctranslate2_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "model.bin"
    bad.write_bytes(struct.pack("<I", 99) + b"\0" * 16)
    with pytest.raises(TeacherError, match="format version 99"):
        read_ct2(bad)
    cut = tmp_path / "cut.bin"
    cut.write_bytes((model_dir("whisper") / "model.bin").read_bytes()[:5000])
    with pytest.raises(TeacherError, match="ends early"):
        read_ct2(cut)
    assert json.loads((model_dir("whisper") / "config.json").read_text())  # the packaged model is intact


def test_host_train_runs_the_fine_tuned_teacher_stage_and_its_soft_labels(tmp_path: Path, small_synth) -> None:
    from nanokws.config import FrontendConfig, RunConfig
    from nanokws.rundir import open_run
    from nanokws.soft_labels import soft_labels
    from nanokws.stages.features import load_clips
    from nanokws.stages.train import TrainOptions, train
    from nanokws.teacher.whisper_ft import load_whisper_ft

    run, config = open_run(tmp_path / "run", RunConfig())
    (run.root / "data").symlink_to(small_synth[0], target_is_directory=True)
    cfg = dataclasses.replace(TINY, whisper_epochs=1)
    train(run, config, TrainOptions(stage="teacher", teacher=cfg), NullReporter())
    history = json.loads(teacher_history_path(run.root, "whisper-ft").read_text())
    assert history["source"] == "whisper-ft" and history["fine_tuned"]
    # the soft labels cached for the student are the saved teacher's answers
    teacher = load_whisper_ft(run.root / TEACHER_DIR, LABELS)
    entries = [e for e in small_synth[1].entries if e.split == "train"][:5]
    expected = teacher.logits(load_clips(run.data, entries, FrontendConfig()))
    np.testing.assert_allclose(soft_labels(run.root, teacher, entries, run.data), expected, atol=1e-4)


def test_the_command_line_sets_the_fine_tuning_label_smoothing() -> None:
    from nanokws.cli import _teacher_config

    cfg = _teacher_config("whisper-ft", smoothing=0.0)
    assert isinstance(cfg, TeacherConfig) and cfg.whisper_label_smoothing == 0.0
    assert _teacher_config("whisper-ft") == TeacherConfig(source="whisper-ft")


def test_spec_masks_depend_on_the_sample_count_not_on_the_history_of_the_object() -> None:
    feats = np.zeros((1, 80, 50), dtype=np.float32)
    feats[0, :, ::2] = 1.0  # a mean to fill with that differs from every value

    def masks(mask: SpecMask, n: int) -> list[np.ndarray]:
        return [np.asarray(mask({"input_features": list(feats), "labels": [0]})["input_features"][0]) for _ in range(n)]

    cfg = TeacherConfig(source="whisper-ft")
    whole = masks(SpecMask(cfg, seed=42), 5)
    later = masks(SpecMask(cfg, seed=42, drawn=3), 2)  # as resumed after three samples
    for a, b in zip(whole[3:], later, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(whole[0], m) for m in whole[1:])  # masks vary from sample to sample
    assert not np.array_equal(masks(SpecMask(cfg, seed=42, rank=1), 1)[0], whole[0])  # and between processes


def test_samples_drawn_counts_whole_epochs_and_the_steps_of_the_one_under_way(tmp_path: Path) -> None:
    assert samples_drawn(None, 4, 50, 16) == 0
    (tmp_path / "trainer_state.json").write_text('{"global_step": 9}')
    assert samples_drawn(str(tmp_path), 4, 50, 16) == 2 * 50 + 1 * 16
