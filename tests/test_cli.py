"""The `host` command: every stage explains itself, runs end to end on a small run, skips work that is up
to date, and refuses a run directory made with another configuration."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import MLPERF_MODEL, host
from nanokws.audio import read_wav_int16
from nanokws.config import FrontendConfig
from nanokws.frontend import mfcc, normalize
from nanokws.native import native_frontend


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["data"],
        ["data", "synth"],
        ["data", "gsc"],
        ["data", "folder"],
        ["features"],
        ["bench", "frontend"],
    ],
)
def test_every_subcommand_has_help(command: list[str]) -> None:
    r = host(*command, "--help")
    assert r.returncode == 0 and "Usage" in r.stdout and len(r.stdout) > 200


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    run = tmp_path_factory.mktemp("cli") / "run"
    r = host("data", "synth", "--run", str(run), "--clips-per-keyword", "4", "--engines", "espeak-ng,flite")
    return run, r


def test_synth_writes_the_run_and_prints_the_summary(small_run) -> None:
    run, r = small_run
    assert r.returncode == 0, r.stderr
    assert "data: 48 clips" in r.stdout and "speakers" in r.stdout and "clips/s" in r.stdout
    config = json.loads((run / "config.json").read_text())
    assert config["seed"] == 42 and config["frontend"]["n_mfcc"] == 10
    assert len((run / "data" / "manifest.jsonl").read_text().splitlines()) == 48


def test_synth_again_is_up_to_date_and_changes_nothing(small_run) -> None:
    run, _ = small_run
    before = (run / "data" / "manifest.jsonl").stat().st_mtime_ns
    r = host("data", "synth", "--run", str(run), "--clips-per-keyword", "4", "--engines", "espeak-ng,flite")
    assert r.returncode == 0 and "up to date" in r.stdout
    assert (run / "data" / "manifest.jsonl").stat().st_mtime_ns == before


def test_features_stage_writes_the_firmware_front_end_mfcc_of_every_clip(small_run) -> None:
    run, _ = small_run
    r = host("features", "--run", str(run))
    assert r.returncode == 0, r.stderr
    assert "(48, 49, 10)" in r.stdout
    with np.load(run / "features.npz") as f:
        feats, paths = f["features"], f["paths"]
    x, _ = read_wav_int16(run / "data" / str(paths[5]))
    np.testing.assert_array_equal(feats[5], native_frontend(FrontendConfig()).features(x))
    np.testing.assert_allclose(feats[5], normalize(mfcc(x, FrontendConfig()), FrontendConfig()), atol=1e-3)
    r = host("features", "--run", str(run))
    assert "up to date" in r.stdout


def test_a_run_made_with_another_config_is_refused(small_run) -> None:
    run, _ = small_run
    config = json.loads((run / "config.json").read_text())
    config["frontend"]["n_mfcc"] = 13
    other = run.parent / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps(config))
    r = host("data", "synth", "--run", str(other), "--clips-per-keyword", "4")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "frontend.n_mfcc: 13 in the run, 10 asked for" in r.stderr


def test_features_without_a_run_is_a_clear_error(tmp_path: Path) -> None:
    r = host("features", "--run", str(tmp_path / "nothing"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "host data synth" in r.stderr


def test_unknown_tts_engine_is_a_clear_error(tmp_path: Path) -> None:
    r = host("data", "synth", "--run", str(tmp_path / "r"), "--engines", "espeak-ng,sam")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "'sam'" in r.stderr


def test_bench_frontend_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    r = host("bench", "frontend", "--clips", "20", "--json", str(out))
    assert r.returncode == 0, r.stderr
    result = json.loads(out.read_text())
    assert result["clips"] == 20 and result["numpy_batched_clips_per_s"] > 0 and result["librosa_clips_per_s"] > 0


def test_export_compiles_a_foreign_model_to_c(tmp_path: Path) -> None:
    model = MLPERF_MODEL
    r = host("export", "--model", str(model), "--out", str(tmp_path / "gen"))
    assert r.returncode == 0, r.stderr
    assert "arena 16000 B" in r.stdout
    assert {p.name for p in (tmp_path / "gen").iterdir()} == {
        "kws_model.h", "kws_model.c", "model_data.h", "model_data.c", "kws_frontend_tables.h",
        "kws_frontend_tables.c", "kws_app.h", "kws_app.c", "model_int8.tflite",
    }  # fmt: skip
    # A model made elsewhere carries no labels or front end of ours: export says it used the defaults.
    assert "no nanokws metadata" in r.stderr


def test_export_of_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    r = host("export", "--model", str(tmp_path / "none.tflite"), "--out", str(tmp_path / "gen"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "none.tflite" in r.stderr
