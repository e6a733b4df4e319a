"""Bad datasets given to `host eval` fail with a message that names the file or folder, what is wrong and
what to do, and a non-zero exit (tests/test_folder.py covers corrupt, empty, truncated, 8-bit, 48 kHz and
stereo WAVs on import; tests/test_codegen_errors.py bad models; tests/test_full_disk.py a full disk)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from conftest import host

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "firmware" / "generated" / "model_int8.tflite"


def evaluate(data: Path) -> tuple[int, str]:
    r = host("eval", "--data", str(data), "--model", str(MODEL))
    return r.returncode, r.stderr


def clip(path: Path, samples: np.ndarray, subtype: str = "PCM_16") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, 16000, subtype=subtype)


def test_an_empty_class_folder_is_named(tmp_path: Path) -> None:
    clip(tmp_path / "yes" / "a.wav", np.zeros(16000, np.int16))
    (tmp_path / "no").mkdir()
    code, err = evaluate(tmp_path)
    assert code == 2 and "class folder 'no' holds no audio files" in err and str(tmp_path / "no") in err


def test_a_nan_filled_wav_is_named(tmp_path: Path) -> None:
    clip(tmp_path / "yes" / "a.wav", np.full(16000, np.nan, np.float32), subtype="FLOAT")
    code, err = evaluate(tmp_path)
    assert code == 2 and "a.wav: audio holds NaN or infinite samples" in err and "--skip-bad" in err


def test_a_ten_minute_wav_is_not_taken_for_a_clip(tmp_path: Path) -> None:
    clip(tmp_path / "yes" / "long.wav", np.zeros(16000 * 600, np.int16))
    code, err = evaluate(tmp_path)
    assert code == 2 and "long.wav: audio is 600 s long, not a clip" in err


def test_a_dataset_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    code, err = evaluate(tmp_path / "data")
    assert code == 2 and "the dataset path is a file, not a folder" in err


def test_a_missing_model_is_named(tmp_path: Path) -> None:
    clip(tmp_path / "yes" / "a.wav", np.zeros(16000, np.int16))
    r = host("eval", "--data", str(tmp_path), "--model", str(tmp_path / "missing.tflite"))
    assert r.returncode == 2 and "missing.tflite" in r.stderr


def test_a_run_directory_from_an_incompatible_config_is_refused(tmp_path: Path) -> None:
    from nanokws.config import RunConfig

    good = RunConfig().to_dict()
    cases = {
        "broken": "{not json",
        "impossible": json.dumps({**good, "frontend": {**good["frontend"], "n_mfcc": 99}}),
        "unknown": json.dumps({**good, "frontend": {**good["frontend"], "bogus_field": 1}}),
    }
    for name, text in cases.items():
        run = tmp_path / name
        run.mkdir()
        (run / "config.json").write_text(text)
        r = host("train", "--run", str(run))
        assert r.returncode == 2, (name, r.stderr)
        assert str(run / "config.json") in r.stderr, (name, r.stderr)
        assert "what to do" in r.stderr, (name, r.stderr)


def stray_manifest(root: Path) -> None:
    """A dataset whose manifest labels one clip with a class no model here has."""
    clip(root / "banana" / "a.wav", np.zeros(16000, np.int16))
    entry = {"path": "banana/a.wav", "label": "banana", "word": "banana", "split": "test", "source": "folder",
             "speaker": "s0"}  # fmt: skip
    (root / "manifest.jsonl").write_text(json.dumps(entry) + "\n")


def test_labels_not_in_the_model_are_refused_by_eval(tmp_path: Path) -> None:
    stray_manifest(tmp_path)
    code, err = evaluate(tmp_path)
    assert code == 2 and "not the model's labels: 'banana' (first at banana/a.wav)" in err, err
    assert str(tmp_path / "manifest.jsonl") in err


def test_labels_not_in_the_run_are_refused_before_training(tmp_path: Path) -> None:
    from nanokws.config import RunConfig

    run = tmp_path / "run"
    stray_manifest(run / "data")
    (run / "config.json").write_text(json.dumps(RunConfig().to_dict()))
    r = host("train", "--run", str(run))
    assert r.returncode == 2 and "not the run's labels: 'banana'" in r.stderr, r.stderr
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "data"]  # nothing computed, nothing half-written
