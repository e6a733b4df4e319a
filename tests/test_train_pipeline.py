"""`host train` runs its stages end to end on a small run, resumes, is reproducible to the byte, and
`host eval --json` reports the same int8 accuracy as the training run measured."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import FAST_ENGINES, SMALL_SYNTH, host
from nanokws.config import RunConfig
from nanokws.data.manifest import read_manifest
from nanokws.errors import ConfigError
from nanokws.evaluate import id_pattern
from nanokws.progress import NullReporter
from nanokws.rundir import open_run
from nanokws.stages.train import TrainOptions, train
from nanokws.student.config import StudentConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("train") / "run"
    r = host("data", "synth", "--run", str(run), "--clips-per-keyword", "12", "--engines", FAST_ENGINES)
    assert r.returncode == 0, r.stderr
    r = host("train", "--run", str(run), "--no-distill", "--views", "0", "--epochs", "3")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "bit-exact" in r.stdout
    return run


def test_train_writes_every_artifact(trained: Path) -> None:
    artifacts = ("student.keras", "model_int8.tflite", "metrics.json", "report/confusion_int8.png", "report/curves.png")
    for name in artifacts:
        assert (trained / name).is_file(), name
    metrics = json.loads((trained / "metrics.json").read_text())
    test = metrics["splits"]["test"]
    assert test["interpreters_bit_exact"] and test["clips"] > 0
    assert 0.0 <= test["int8"]["accuracy"] <= 1.0
    assert set(metrics["stages"]) >= {"student", "quantize"}
    assert metrics["tensorflow_threads"] == 2  # fixed, not the machine's core count


def test_eval_json_reports_what_training_measured(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    r = host("eval", "--data", str(trained / "data"), "--model", str(trained), "--split", "test", "--json", str(out))
    assert r.returncode == 0, r.stderr
    result = json.loads(out.read_text())
    assert set(result) >= {"accuracy", "n", "per_class"}
    metrics = json.loads((trained / "metrics.json").read_text())["splits"]["test"]["int8"]
    assert result["n"] == metrics["n"]
    assert result["accuracy"] == pytest.approx(metrics["accuracy"])
    assert set(result["per_class"]) == set(RunConfig().labels)


def test_eval_of_some_speakers_or_voices_scores_only_their_clips(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    data = trained / "data"
    args = ("--data", str(data), "--model", str(trained), "--json", str(out))
    r = host("eval", *args, "--speakers", "^espeak-ng:|^noise-")
    assert r.returncode == 0, r.stderr
    chosen = [e for e in read_manifest(data) if e.engine in ("espeak-ng", "noise")]
    result = json.loads(out.read_text())
    assert result["n"] == len(chosen) < len(read_manifest(data))
    assert np.array(result["confusion"]).sum(axis=1).tolist() == [
        sum(e.label == label for e in chosen) for label in result["labels"]
    ]
    r = host("eval", *args, "--voices", "^en-us")
    assert r.returncode == 0, r.stderr
    voiced = [e for e in read_manifest(data) if e.voice.startswith("en-us")]
    assert 0 < json.loads(out.read_text())["n"] == len(voiced) < len(read_manifest(data))
    with pytest.raises(ConfigError, match="--voices 'espeak-ng:\\(' is not a regular expression"):
        id_pattern("espeak-ng:(", "--voices")


def test_eval_counts_other_words_as_unknown(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    # a raw Speech Commands folder: word folders (bed, marvin, ...), no manifest
    raw = tmp_path / "raw"
    for d in (trained / "data").iterdir():
        if d.is_dir():
            (raw / d.name).mkdir(parents=True)
            for f in sorted(d.glob("*.wav"))[:2]:
                (raw / d.name / f.name).write_bytes(f.read_bytes())
    r = host("eval", "--data", str(raw), "--model", str(trained / "model_int8.tflite"), "--json", str(out))
    assert r.returncode == 0, r.stderr
    result = json.loads(out.read_text())
    confusion = np.array(result["confusion"])
    unknown_row = result["labels"].index("_unknown_")
    fillers = [f for d in raw.iterdir() if d.name in SMALL_SYNTH.filler_words for f in d.iterdir()]
    assert fillers and confusion[unknown_row].sum() == len(fillers)
    # choosing voices needs the manifest that `host data` writes, which a raw folder does not have
    r = host("eval", "--data", str(raw), "--model", str(trained / "model_int8.tflite"), "--voices", "^en")
    assert r.returncode != 0 and "--voices needs a folder made by `host data`" in r.stderr


def test_second_train_is_up_to_date(trained: Path) -> None:
    r = host("train", "--run", str(trained), "--no-distill", "--views", "0", "--epochs", "3")
    assert r.returncode == 0
    assert r.stdout.count("up to date") >= 2  # student and quantize


class _StopAfter:
    """A reporter that interrupts the student's training (as Ctrl-C would) once `epochs` epochs are done."""

    def __init__(self, epochs: int) -> None:
        self.left = epochs

    def task(self, description: str, total: int) -> object:
        return self if description.startswith("training") else NullReporter().task(description, total)

    def advance(self, n: int = 1) -> None:
        self.left -= n
        if n and self.left <= 0:
            raise KeyboardInterrupt

    def log(self, message: str) -> None:
        pass


def test_interrupted_training_resumes_and_reproduces_the_bytes(tmp_path: Path, trained: Path) -> None:
    """Stopped after 2 of 3 epochs and resumed, training gives the very .tflite of an uninterrupted run."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_bytes((trained / "config.json").read_bytes())
    (run / "data").symlink_to(trained / "data")
    rd, config = open_run(run)
    opts = TrainOptions(stage="student", student=StudentConfig(epochs=3, distill=False, views=0))
    with pytest.raises(KeyboardInterrupt):
        train(rd, config, opts, _StopAfter(2))
    assert json.loads((run / "student_checkpoints" / "state.json").read_text())["epoch"] == 2
    assert not (run / "student.keras").exists()
    train(rd, config, TrainOptions(stage="student", student=opts.student, resume=True), NullReporter())
    state = json.loads((run / "student_checkpoints" / "state.json").read_text())
    assert state["epoch"] == 3 and [h["epoch"] for h in state["history"]] == [1, 2, 3]
    train(rd, config, TrainOptions(stage="quantize"), NullReporter())
    assert (run / "model_int8.tflite").read_bytes() == (trained / "model_int8.tflite").read_bytes()


def test_killed_training_resumes_to_the_same_bytes(tmp_path: Path, trained: Path) -> None:
    """SIGKILL (no chance to clean up) in the middle of the student's epochs, then `host train --resume`:
    the run completes and its .tflite is the uninterrupted run's, byte for byte."""
    run, args, proc = _start_training(tmp_path, trained, subprocess.DEVNULL)
    state = run / "student_checkpoints" / "state.json"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if state.is_file() and json.loads(state.read_text() or "{}").get("epoch", 0) >= 1:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (run / "model_int8.tflite").exists()
    r = host(*args, "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    assert (run / "model_int8.tflite").read_bytes() == (trained / "model_int8.tflite").read_bytes()
    assert json.loads((run / "metrics.json").read_text())["splits"]["test"]["interpreters_bit_exact"]


def test_ctrl_c_says_where_training_stopped(tmp_path: Path, trained: Path) -> None:
    # 30 epochs: the interrupt must land while the student trains, not after it finished (3 epochs of
    # the tiny data can end before the signal does on a busy machine).
    run, _, proc = _start_training(tmp_path, trained, subprocess.PIPE, epochs=30)
    state = run / "student_checkpoints" / "state.json"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None and not state.is_file():
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-4000:]
    assert "interrupted in the student stage" in stderr and "--resume" in stderr
    assert "Traceback" not in stderr


def _start_training(
    tmp_path: Path, trained: Path, stderr: int | None, epochs: int = 3
) -> tuple[Path, list[str], subprocess.Popen]:
    """A copy of the trained run's config and data, and `host train` on it started in the background."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_bytes((trained / "config.json").read_bytes())
    (run / "data").symlink_to(trained / "data")
    args = ["train", "--run", str(run), "--no-distill", "--views", "0", "--epochs", str(epochs)]
    # The child starts with Ctrl-C's default disposition, unblocked, whatever the test process inherited or was
    # left with: an ignored or blocked SIGINT is inherited across exec, and Python then never sees it.
    proc = subprocess.Popen([sys.executable, "-m", "nanokws.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=stderr, text=True, preexec_fn=_default_sigint)  # fmt: skip
    return run, args, proc


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
