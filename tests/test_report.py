"""`host report RUN`: clear errors on bad runs, a page that needs nothing but itself, the optional
measurements shown when present and named when not, and unreadable audio skipped and noted."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import host
from nanokws.config import RunConfig
from nanokws.progress import NullReporter
from nanokws.report import write_report
from nanokws.report.clips import MAX_CLIPS, predict_test
from nanokws.report.inputs import load_artifacts, read_generated
from nanokws.rundir import open_run
from report_helpers import clone_run, refs_of, write_bench, write_hil, write_loeo

SECTIONS = ("data", "training", "accuracy", "distillation", "loeo", "budget", "misclassified")


def section(html: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}" data-measured="(yes|no)">(.*?)</section>', html, re.S)
    assert m, f"section {sid} missing"
    return m.group(0)


def test_missing_run_directory_is_a_clear_error(tmp_path: Path) -> None:
    r = host("report", str(tmp_path / "no-such-run"))
    assert r.returncode != 0
    assert "no such run directory" in r.stderr and "Traceback" not in r.stderr


def test_a_folder_that_is_not_a_run_is_a_clear_error(tmp_path: Path) -> None:
    r = host("report", str(tmp_path))
    assert r.returncode != 0
    assert "not a run directory" in r.stderr and "Traceback" not in r.stderr


def test_a_run_without_metrics_says_to_train_first(tmp_path: Path) -> None:
    open_run(tmp_path / "run", RunConfig())
    r = host("report", str(tmp_path / "run"))
    assert r.returncode != 0
    assert "no metrics.json" in r.stderr and "host train" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "run" / "report").exists()


def test_arena_is_read_only_from_a_header_generated_from_this_model(tmp_path: Path) -> None:
    header = tmp_path / "kws_model.h"
    header.write_text(
        "/* model: model_int8.tflite\n *        sha256 abc123\n */\n"
        "/* ... 13 ops, 16000 bytes of activations, 24368 bytes of weights and biases in flash. */\n"
        "#define KWS_MODEL_ARENA_BYTES 16000\n"
    )
    generated = read_generated(header, "abc123")
    assert generated is not None and generated.arena_bytes == 16000 and generated.weight_bytes == 24368
    assert read_generated(header, "another") is None
    assert read_generated(tmp_path / "absent.h", "abc123") is None


@pytest.mark.slow
def test_host_train_writes_the_report_and_prints_its_path(report_run: tuple[Path, str]) -> None:
    run, stdout = report_run
    page = run / "report" / "index.html"
    assert page.is_file()
    assert "wrote the report" in stdout and "index.html" in stdout


@pytest.mark.slow
def test_the_page_is_self_contained_and_has_every_section(report_run: tuple[Path, str], tmp_path: Path) -> None:
    run, _ = report_run
    r = host("report", str(run), "--out", str(tmp_path))  # a folder: the page is its index.html
    out = tmp_path / "index.html"
    assert r.returncode == 0, r.stderr[-3000:]
    assert str(out) in r.stdout
    html = out.read_text()
    refs = refs_of(html)
    assert refs, "the page has no src or href at all"
    for tag, attr, v in refs:
        assert not re.match(r"\s*(https?:)?//", v, re.I), f"<{tag} {attr}> reaches out: {v[:80]}"
        if attr == "src":
            assert v.startswith(("data:image/png;base64,", "data:audio/wav;base64,")), (tag, v[:40])
        if attr == "href":
            assert v.startswith("#"), v
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html and "<link" not in html
    for sid in SECTIONS:
        section(html, sid)
    # a run straight from `host train`: these three are not run, and say what to run
    for sid, command in (("distillation", "host bench loeo"), ("loeo", "host bench loeo"), ("budget", "host bench")):
        text = section(html, sid)
        assert 'data-measured="no"' in text and f"<code>{command}" in text, sid
    assert "Firmware: not run" in section(html, "accuracy") and "<code>host hil" in section(html, "accuracy")


@pytest.mark.slow
def test_measurements_are_shown_when_the_run_has_them(report_run: tuple[Path, str], tmp_path: Path) -> None:
    run = clone_run(report_run[0], tmp_path / "run")
    hil = write_hil(run)
    write_bench(run)
    write_loeo(run)
    html = write_report(run, tmp_path / "page.html").path.read_text()
    for sid in SECTIONS:
        assert 'data-measured="yes"' in section(html, sid), sid
    acc = section(html, "accuracy")
    assert acc.count('class="confusion"') == 3  # float, int8, firmware
    assert f"{100 * hil['accuracy']:.1f}%" in acc
    budget = section(html, "budget")
    for shown in ("9,800,000", "0.271", "portable", "71,234 B", "percent of real time", "instructions per hop"):
        assert shown in budget, shown
    assert "estimated load at 64 MHz" in budget  # from hil.json's instruction counts
    dist = section(html, "distillation")
    assert "+4.0 pp" in dist  # both engines gain 4 points
    # hil.json of another model: not taken for this run's firmware
    write_hil(run, model_sha256="0" * 64)
    html = write_report(run, tmp_path / "page.html").path.read_text()
    assert "another model" in section(html, "accuracy")
    assert section(html, "accuracy").count('class="confusion"') == 2


@pytest.mark.slow
def test_every_leave_one_engine_out_setting_is_in_the_report(report_run: tuple[Path, str], tmp_path: Path) -> None:
    """Settings measured with `host bench loeo --tag` are side by side, as `host bench loeo-table` prints them,
    even when the untagged loeo.json was never made."""
    run = clone_run(report_run[0], tmp_path / "run")
    write_loeo(run, tag="wide")
    loeo = section(write_report(run, tmp_path / "page.html").path.read_text(), "loeo")
    assert 'data-measured="yes"' in loeo and "every setting measured" in loeo
    assert "wide" in loeo and "int8 student, distilled" in loeo and "int8 student, hard" in loeo
    assert "59.5%" in loeo  # the distilled mean over espeak-ng (0.46) and flite (0.73)
    write_loeo(run)
    loeo = section(write_report(run, tmp_path / "page.html").path.read_text(), "loeo")
    assert "wide" in loeo and "int8 accuracy per class" in loeo  # both the settings and loeo.json's details


@pytest.mark.slow
def test_odd_bench_json_is_shown_as_far_as_it_goes(report_run: tuple[Path, str], tmp_path: Path) -> None:
    run = clone_run(report_run[0], tmp_path / "run")
    write_bench(run, {"models": {"m": {"macs": 5, "extra": [1, 2]}, "broken": 3}, "image": {}, "note": "partial"})
    budget = section(write_report(run, tmp_path / "a.html").path.read_text(), "budget")
    assert "partial" in budget and "not objects" in budget and "[1, 2]" in budget
    (run / "bench.json").write_text("{not json")
    budget = section(write_report(run, tmp_path / "b.html").path.read_text(), "budget")
    assert "bench.json could not be read" in budget and "host bench" in budget


@pytest.mark.slow
def test_unreadable_audio_of_a_misclassified_clip_is_skipped_and_noted(
    report_run: tuple[Path, str], tmp_path: Path
) -> None:
    run = clone_run(report_run[0], tmp_path / "run", copy_data=True)
    a = load_artifacts(run)
    assert a.model is not None
    p = predict_test(a, a.model, NullReporter())
    wrong = np.flatnonzero(p.predicted != p.y)
    assert len(wrong) >= 2, "the tiny model should get some test clips wrong"
    # the page lists the most confident mistakes, at most MAX_CLIPS: break the first of them
    shown = wrong[np.argsort(-p.scores[wrong, p.predicted[wrong]], kind="stable")][:MAX_CLIPS]
    broken = p.entries[int(shown[0])].path
    (run / "data" / broken).write_bytes(b"RIFF\x00\x00 not a wave file")
    out = tmp_path / "page.html"
    r = host("report", str(run), "--out", str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    clips = section(out.read_text(), "misclassified")
    assert "audio unreadable" in clips and f"could not be played: {broken}" in clips
    assert clips.count("<audio") == len(shown) - 1
    # without the cached features, the clip cannot even be evaluated: it is left out and named
    (run / "features.npz").unlink()
    clips = section(write_report(run, out).path.read_text(), "misclassified")
    assert "could not be read and were not evaluated" in clips and broken in clips
    assert clips.count("<audio") == min(len(wrong) - 1, MAX_CLIPS)  # the other mistakes, all playable


@pytest.mark.slow
def test_the_list_of_clips_is_capped(report_run: tuple[Path, str], tmp_path: Path) -> None:
    run = report_run[0]
    html = write_report(run, tmp_path / "page.html", max_clips=3).path.read_text()
    clips = section(html, "misclassified")
    assert clips.count("<audio") == 3
    m = re.search(r"gets (\d+) of (\d+) test clips wrong\. The 3 most confident mistakes are listed; (\d+) more", clips)
    assert m and int(m.group(3)) == int(m.group(1)) - 3
    int8 = json.loads((run / "metrics.json").read_text())["splits"]["test"]["int8"]
    assert int(m.group(1)) == round((1 - int8["accuracy"]) * int8["n"])
