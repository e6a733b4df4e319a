"""`host train` with the Whisper teacher and every view option runs end to end, each option reaches the
student's settings, and a second run is up to date. A module of its own: it shares nothing with the other
pipeline tests, so the suite's two workers can run it beside them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import host

pytestmark = pytest.mark.slow


def test_whisper_teacher_with_views_trains_end_to_end(tmp_path: Path) -> None:
    run = tmp_path / "run"
    r = host("data", "synth", "--run", str(run), "--clips-per-keyword", "6", "--engines", "espeak-ng,flite")
    assert r.returncode == 0, r.stderr
    args = ("train", "--run", str(run), "--teacher", "whisper", "--views", "2", "--alpha", "0.3", "--hints", "0.5",
            "--segment-hints", "0.25", "--view-epochs", "1", "--view-patience", "2", "--mixup", "0.5")  # fmt: skip
    r = host(*args)
    assert r.returncode == 0, r.stderr[-3000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["teacher"]["source"] == "whisper" and metrics["teacher"]["validation_accuracy"] is not None
    assert metrics["student"]["views"] == 2 and metrics["splits"]["test"]["interpreters_bit_exact"]
    # every option reaches the student's settings (--hints once did not)
    assert (metrics["student"]["hint_weight"], metrics["student"]["segment_hint_weight"]) == (0.5, 0.25)
    assert (metrics["student"]["view_epochs"], metrics["student"]["view_patience"]) == (1, 2)
    assert metrics["student"]["mixup_probability"] == 0.5
    assert (run / "views.joblib").is_file() and (run / "teacher_whisper" / "whisper_embeddings.joblib").is_file()
    r = host(*args)
    assert r.returncode == 0 and "student is up to date" in r.stdout
