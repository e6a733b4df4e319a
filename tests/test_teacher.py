"""The teacher stage: a Wav2Vec2 trained with the HuggingFace Trainer (from scratch, resumable, under torchrun
as one DDP job) or a keyword model loaded and mapped onto the run's labels by name, without training."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import TrainerCallback, Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

from nanokws.config import FrontendConfig, RunConfig
from nanokws.data.manifest import Entry
from nanokws.labels import LABELS
from nanokws.rundir import open_run
from nanokws.stages.features import load_clips
from nanokws.teacher import Teacher, TeacherConfig, TeacherError
from nanokws.teacher.label_map import label_mapping
from nanokws.teacher.models import parameter_checksum, resolve
from nanokws.teacher.trim import trim_silence
from nanokws.teacher.wav2vec2 import CHECKPOINT_DIR, TEACHER_DIR, load_teacher, stage_key, train_teacher

# A Wav2Vec2 of 7 K parameters: its loss falls within seconds, which is all these tests need.
TINY = TeacherConfig(
    conv_channels=8,
    hidden_size=16,
    num_heads=2,
    intermediate_size=32,
    pos_conv_kernel=8,
    pos_conv_groups=2,
    classifier_proj_size=16,
    dropout=0.0,
    mask_time_prob=0.0,
    epochs=8,
    batch_size=8,
    learning_rate=5e-3,
    logging_steps=2,
)

# The label order of superb/wav2vec2-base-superb-ks, which differs from the run's (silence and unknown first).
SUPERB_KS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "_silence_", "_unknown_")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from a second thread, and when another job holds a core, OpenMP threads that
    spin waiting for each other make training 30 times slower (measured: 61 s instead of 1.7 s)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data_root(small_synth) -> Path:
    return small_synth[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_root, small_entries):
    run = tmp_path_factory.mktemp("teacher") / "run"
    return run, train_teacher(run, LABELS, small_entries, data_root, TINY)


def _clips(data_root: Path, entries: list[Entry]) -> np.ndarray:
    return load_clips(data_root, entries, FrontendConfig())


# --- pure parts ----------------------------------------------------------------------------------------


def test_trim_cuts_quiet_ends_keeps_a_minimum_and_leaves_silence_centred() -> None:
    x = np.zeros(16000, dtype=np.int16)
    x[6000:9000] = (np.sin(np.arange(3000) * 0.3) * 8000).astype(np.int16)
    y = trim_silence(x, top_db=40.0, min_samples=1000)
    assert 3000 <= y.size <= 3000 + 2 * 400 and np.abs(y).max() == np.abs(x).max()
    assert trim_silence(x, top_db=40.0, min_samples=4800).size == 4800
    assert trim_silence(np.zeros(16000, dtype=np.int16), 40.0, 4800).size == 4800
    loud = (np.sin(np.arange(16000) * 0.3) * 8000).astype(np.int16)
    assert trim_silence(loud, 40.0, 4800).size == 16000  # nothing quiet to cut, not even the last frame


def test_labels_are_mapped_by_name_ignoring_case_underscores_and_unused_outputs() -> None:
    superb = dict(enumerate(SUPERB_KS))
    assert label_mapping(superb, LABELS) == (10, 11, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
    assert label_mapping({0: "Silence", 1: "UNKNOWN", 2: "marvin", 3: "yes"}, ("_silence_", "yes")) == (0, 3)
    assert label_mapping({0: "yes", 1: "no"}, LABELS) is None  # labels missing
    assert label_mapping({0: "LABEL_0", 1: "LABEL_1"}, ("LABEL_0",)) is None  # no trained head at all


# --- training from scratch -----------------------------------------------------------------------------


def test_scratch_teacher_trains_with_the_trainer_and_writes_the_run(trained, small_entries) -> None:
    run, outcome = trained
    assert outcome.fine_tuned and not outcome.skipped
    assert isinstance(outcome.teacher, Teacher)
    files = {p.name for p in (run / TEACHER_DIR).iterdir()}
    assert {"config.json", "model.safetensors", "preprocessor_config.json", "history.json"} <= files
    assert not (run / CHECKPOINT_DIR).exists()  # checkpoints are deleted once the teacher is written
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temporary leftovers

    h = json.loads((run / TEACHER_DIR / "history.json").read_text())
    n_train = sum(e.split == "train" for e in small_entries)
    assert h["steps"] == TINY.epochs * -(-n_train // TINY.batch_size) and h["world_size"] == 1
    assert [e["epoch"] for e in h["eval"]] == [float(n) for n in range(1, TINY.epochs + 1)]  # validated every epoch
    assert all(0.0 <= e["accuracy"] <= 1.0 for e in h["eval"])
    assert 0.0 <= h["validation_accuracy"] <= 1.0 and 0.0 <= h["test_accuracy"] <= 1.0
    losses = [e["loss"] for e in h["train"]]
    assert len(losses) >= 5 and losses[-1] < losses[0] - 0.05  # it learns
    assert len({c["param_sha256"] for c in h["checksums"]}) == TINY.epochs  # the weights change every epoch
    assert h["parameters"] == outcome.teacher.parameters < 10_000
    assert h["seconds_per_step"] > 0


def test_teacher_answers_in_the_run_label_order_and_reloads_identically(trained, data_root, small_entries) -> None:
    run, outcome = trained
    clips = _clips(data_root, small_entries[:20])
    logits = outcome.teacher.logits(clips)
    assert logits.shape == (20, len(LABELS)) and logits.dtype == np.float32
    again = load_teacher(run / TEACHER_DIR, LABELS)
    assert again.model.config.id2label == dict(enumerate(LABELS))
    assert again.preprocessing == outcome.teacher.preprocessing and again.preprocessing.trim_db == TINY.trim_db
    np.testing.assert_allclose(again.logits(clips), logits, atol=1e-5)
    assert again.fingerprint() == outcome.teacher.fingerprint()


def test_clips_of_different_lengths_get_the_same_logits_alone_or_padded_in_a_batch(
    trained, data_root, small_entries
) -> None:
    teacher = trained[1].teacher
    clips = _clips(data_root, [e for e in small_entries if e.label not in ("_silence_",)][:6])
    for i, start in enumerate((0, 3000, 6000)):  # quiet leading parts: trimmed to different lengths
        clips[i, :start] = 0
    lengths = {teacher.preprocessing.apply(c).size for c in clips}
    assert len(lengths) >= 3
    together = teacher.logits(clips)
    alone = np.concatenate([teacher.logits(clips[i : i + 1]) for i in range(len(clips))])
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_the_stage_is_up_to_date_the_second_time_and_keyed_on_config_and_data(
    trained, data_root, small_entries
) -> None:
    run, first = trained
    second = train_teacher(run, LABELS, small_entries, data_root, TINY)
    assert second.skipped and second.teacher.fingerprint() == first.teacher.fingerprint()
    assert second.history == first.history
    key = stage_key(LABELS, small_entries, TINY)
    assert stage_key(LABELS, small_entries, dataclasses.replace(TINY, epochs=4)) != key
    changed = [dataclasses.replace(small_entries[0], split="test"), *small_entries[1:]]
    assert stage_key(LABELS, changed, TINY) != key


class _Interrupted(Exception):
    pass


class _InterruptAtFirstCheckpoint(TrainerCallback):
    def on_save(self, args, state, control, **kwargs) -> None:
        raise _Interrupted


def test_interrupted_training_resumes_from_its_checkpoint_to_the_same_weights(
    tmp_path, trained, data_root, small_entries
) -> None:
    run = tmp_path / "run"
    with pytest.raises(_Interrupted):
        train_teacher(run, LABELS, small_entries, data_root, TINY, callbacks=[_InterruptAtFirstCheckpoint()])
    assert not (run / TEACHER_DIR).exists()
    checkpoints = sorted(p.name for p in (run / CHECKPOINT_DIR).glob("checkpoint-*"))
    assert len(checkpoints) == 1

    with pytest.raises(TeacherError, match="another configuration"):
        train_teacher(run, LABELS, small_entries, data_root, dataclasses.replace(TINY, epochs=4), resume=True)

    # A later checkpoint cut short while being written (no trainer_state.json, which the Trainer writes last):
    # resuming passes over it to the last whole one, and deletes it so that the Trainer writes it anew.
    partial = run / CHECKPOINT_DIR / "checkpoint-99999"
    shutil.copytree(run / CHECKPOINT_DIR / checkpoints[0], partial, ignore=shutil.ignore_patterns("trainer_state.json"))
    resumed = train_teacher(run, LABELS, small_entries, data_root, TINY, resume=True)
    reference = trained[1].history
    assert not partial.exists()
    assert resumed.history["resumed_from"] == checkpoints[0]
    assert resumed.history["steps"] == reference["steps"]
    # Optimizer, scheduler, RNG and data order are restored: every later epoch ends exactly as without the stop.
    assert resumed.history["checksums"] == reference["checksums"]
    assert resumed.history["final_param_sha256"] == reference["final_param_sha256"]
    assert resumed.teacher.fingerprint() == trained[1].teacher.fingerprint()


# --- teachers from elsewhere ---------------------------------------------------------------------------


def _keyword_model(directory: Path, labels: tuple[str, ...]) -> Wav2Vec2ForSequenceClassification:
    """A keyword model as the hub has them (here tiny and untrained), saved with save_pretrained."""
    torch.manual_seed(0)
    config = Wav2Vec2Config(
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(8,) * 7,
        num_conv_pos_embeddings=8,
        num_conv_pos_embedding_groups=2,
        classifier_proj_size=16,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    model = Wav2Vec2ForSequenceClassification(config).eval()
    with torch.no_grad():  # outputs far apart, so a wrong mapping cannot pass by accident
        model.classifier.bias.copy_(torch.arange(len(labels), dtype=torch.float32) * 10.0)
    model.save_pretrained(directory)
    Wav2Vec2FeatureExtractor(return_attention_mask=False).save_pretrained(directory)
    return model


def test_a_keyword_teacher_is_mapped_by_name_and_used_without_fine_tuning(tmp_path, data_root, small_entries) -> None:
    source = tmp_path / "superb-like"
    model = _keyword_model(source, SUPERB_KS)
    run = tmp_path / "run"
    outcome = train_teacher(run, LABELS, small_entries, data_root, TeacherConfig(source=str(source)))

    assert not outcome.fine_tuned and "labels mapped by name" in outcome.notes[0]
    assert not (run / CHECKPOINT_DIR).exists() and "train" not in outcome.history
    saved = Wav2Vec2ForSequenceClassification.from_pretrained(run / TEACHER_DIR)
    assert parameter_checksum(saved) == parameter_checksum(model)  # not trained: the very same weights

    clips = _clips(data_root, small_entries[:8])
    extractor = Wav2Vec2FeatureExtractor.from_pretrained(source)
    with torch.no_grad():
        raw = model(
            **extractor(list(clips.astype(np.float32) / 32768.0), sampling_rate=16000, return_tensors="pt")
        ).logits.numpy()
    order = [SUPERB_KS.index(label) for label in LABELS]
    np.testing.assert_allclose(outcome.teacher.logits(clips), raw[:, order], atol=1e-5)
    np.testing.assert_allclose(load_teacher(run / TEACHER_DIR, LABELS).logits(clips), raw[:, order], atol=1e-5)


def test_a_keyword_teacher_lacking_a_run_label_is_refused_when_it_may_not_be_fine_tuned(tmp_path) -> None:
    source = tmp_path / "no-silence"
    _keyword_model(source, tuple(label for label in SUPERB_KS if label != "_silence_"))
    with pytest.raises(TeacherError, match="no output for some of the run's labels"):
        resolve(LABELS, TeacherConfig(source=str(source), fine_tune=False))


def test_a_missing_teacher_directory_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(TeacherError, match="does not exist"):
        resolve(LABELS, TeacherConfig(source=str(tmp_path / "nowhere")))


def test_a_hub_id_offline_fails_with_a_message_that_points_to_the_offline_default(tmp_path) -> None:
    code = textwrap.dedent(
        """
        from nanokws.labels import LABELS
        from nanokws.teacher import TeacherConfig, TeacherError
        from nanokws.teacher.models import resolve
        try:
            resolve(LABELS, TeacherConfig(source="superb/wav2vec2-base-superb-ks"))
        except TeacherError as e:
            print(e.message)
        """
    )
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "cannot load the teacher `superb/wav2vec2-base-superb-ks`" in r.stdout
    assert "--teacher scratch" in r.stdout and "local directory" in r.stdout


# --- several processes ---------------------------------------------------------------------------------

# Runs the teacher CLI under an audit hook that records every file system write (open for writing, mkdir,
# rename, remove) below the run directory, one JSON file per rank: proof of who wrote what.
AUDITED_CLI = """
import atexit, json, os, runpy, sys
ROOT = os.path.realpath(os.environ["AUDIT_ROOT"])
writes = []
def hook(event, args):
    if event == "open":
        path, mode, flags = args
        if isinstance(path, int) or not (
            (mode and any(c in mode for c in "wax+")) or (flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        ):
            return
        paths = [path]
    elif event in ("os.mkdir", "os.rename", "os.remove", "os.rmdir", "shutil.rmtree"):
        paths = [a for a in args[: 2 if event == "os.rename" else 1] if isinstance(a, (str, bytes, os.PathLike))]
    else:
        return
    for p in paths:
        p = os.path.realpath(os.fsdecode(p))
        if p.startswith(ROOT + os.sep):
            writes.append([event, os.path.relpath(p, ROOT)])
def dump():
    with open(os.path.join(os.environ["AUDIT_OUT"], f"rank{os.environ['RANK']}.json"), "w") as f:
        json.dump(writes, f)
atexit.register(dump)
sys.addaudithook(hook)
sys.argv = ["train_cli", *sys.argv[1:]]
runpy.run_module("nanokws.teacher.train_cli", run_name="__main__")
"""


@pytest.mark.slow
def test_torchrun_with_two_cpu_processes_trains_one_model_and_only_rank_zero_writes(
    tmp_path, small_synth, small_entries
) -> None:
    run, _ = open_run(tmp_path / "run", RunConfig())
    (run.root / "data").symlink_to(small_synth[0], target_is_directory=True)
    cfg = dataclasses.replace(TINY, epochs=2)
    (tmp_path / "teacher.json").write_text(json.dumps(cfg.to_dict()))
    (tmp_path / "audited_cli.py").write_text(AUDITED_CLI)
    audit = tmp_path / "audit"
    audit.mkdir()
    env = os.environ | {"AUDIT_ROOT": str(run.root), "AUDIT_OUT": str(audit), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command += [str(tmp_path / "audited_cli.py"), str(run.root), "--config", str(tmp_path / "teacher.json")]
    r = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr

    # Both processes end with the same weights at every epoch: one model, trained with averaged gradients.
    # (Two processes that each trained alone on their half of the data would differ from the first epoch.)
    lines = dict(re.findall(r"^rank (\d)/2: teacher ready, (.*)$", r.stdout, re.MULTILINE))
    assert set(lines) == {"0", "1"}, r.stdout
    assert lines["0"] == lines["1"]
    h = json.loads((run.root / TEACHER_DIR / "history.json").read_text())
    assert h["world_size"] == 2
    n_train = sum(e.split == "train" for e in small_entries)
    assert h["steps"] == cfg.epochs * -(-n_train // (cfg.batch_size * 2))  # each process saw half the data
    epochs = ",".join(f"{c['epoch']:g}:{c['param_sha256'][:16]}" for c in h["checksums"])
    assert len(h["checksums"]) == 2 and f"epochs {epochs}" in lines["0"]
    assert f"final sha256 {h['final_param_sha256']}" in lines["0"]
    # The loss is not multiplied by the world size (the Trainer does so for models that take
    # num_items_in_batch): about ln(12) = 2.48 for an untrained model, not twice that.
    assert all(e["loss"] < 3.5 for e in h["eval"] + h["train"])

    # Only rank 0 wrote the artifacts (the teacher directory, its rename into place, the soft labels).
    rank0 = json.loads((audit / "rank0.json").read_text())
    rank1 = json.loads((audit / "rank1.json").read_text())

    def artifacts(writes: list[list[str]]) -> list[list[str]]:
        return [w for w in writes if not w[1].startswith(CHECKPOINT_DIR)]

    assert ["os.rename", TEACHER_DIR] in artifacts(rank0)
    assert any(w[1].startswith(".soft_labels.joblib.") for w in rank0)
    assert artifacts(rank1) == [], artifacts(rank1)
    assert (run.root / "soft_labels.joblib").is_file() and not (run.root / CHECKPOINT_DIR).exists()
