"""A full disk during a write (simulated with RLIMIT_FSIZE: writes past the limit fail with EFBIG, as
they fail with ENOSPC on a full disk) leaves no half-written file and no temporary file, keeps the previous
artifacts whole, and ends with a clear message and a non-zero exit."""

from __future__ import annotations

import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from nanokws import atomic

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "firmware" / "generated" / "model_int8.tflite"


def small_disk(limit_bytes: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return apply


def test_export_on_a_full_disk_keeps_the_previous_generated_files(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    shutil.copytree(ROOT / "firmware" / "generated", out)
    (out / "kws_app.h").write_text((out / "kws_app.h").read_text() + "/* changed */\n")  # so export rewrites
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    r = subprocess.run(
        [sys.executable, "-m", "nanokws.cli", "export", "--model", str(MODEL), "--out", str(out)],
        capture_output=True, text=True, preexec_fn=small_disk(1000), timeout=300,
    )  # fmt: skip
    assert r.returncode == 1
    assert "error: File too large" in r.stderr and "kws_app.h" in r.stderr
    assert "nothing half-written" in r.stderr and "Traceback" not in r.stderr
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # all or nothing: the old set, whole, and no temporary files


def test_write_all_is_all_or_nothing_when_a_write_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a")
    b.write_text("old b")
    real = atomic._write_synced

    def failing(path: Path, data: bytes, target: Path) -> None:
        if target == b:
            raise OSError(28, "No space left on device", str(target))
        real(path, data, target)

    monkeypatch.setattr(atomic, "_write_synced", failing)
    with pytest.raises(OSError, match="No space left"):
        atomic.write_all({a: b"new a", b: b"new b"})
    assert (a.read_text(), b.read_text()) == ("old a", "old b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]
