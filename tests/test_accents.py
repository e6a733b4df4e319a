"""Festival's voices of Italian, Czech, Finnish, Catalan and Russian speakers say the English words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nanokws.data import accents, tts
from nanokws.data.tts import Render, check_engines, render_batch, voices
from nanokws.errors import ConfigError, ToolMissingError


def test_every_language_respells_every_keyword_and_filler_word() -> None:
    for name, language in accents.LANGUAGES.items():
        assert len(language.spellings) == len(accents.WORDS), name
        for word in accents.WORDS:
            spelled = language.respell(word)
            assert spelled and " " not in spelled
            spelled.encode(language.encoding)  # the voice's lexicon can read it


def test_a_word_outside_the_table_is_read_as_written() -> None:
    assert accents.LANGUAGES["czech"].respell("marvin") == "márvin"
    assert accents.LANGUAGES["czech"].respell("zebra") == "zebra"
    assert accents.text_for("kal_diphone", "right") == ("right", "utf-8")
    assert accents.text_for("czech_machac", "right") == ("rajt", "iso-8859-2")


def test_each_accented_voice_is_its_own_speaker_of_the_festival_engine() -> None:
    festival = voices("festival", accented=True)
    speakers = {v.voice: v.speaker for v in festival}
    for a in accents.ACCENT_VOICES:
        assert speakers[a.voice] == a.speaker
    assert len({v.speaker for v in festival}) == len(festival)
    assert set(tts.FESTIVAL_PACKAGES) == {v.voice for v in festival}  # each voice names its Debian package


def test_every_accented_voice_speaks_a_keyword_in_one_festival_process() -> None:
    by_name = {v.voice: v for v in voices("festival", accented=True)}
    renders = [Render(by_name[a.voice], "stop", 1.0) for a in accents.ACCENT_VOICES]
    english = Render(by_name["kal_diphone"], "stop", 1.0)
    out = render_batch([*renders, english])
    for a, (x, rate) in zip(accents.ACCENT_VOICES, out, strict=False):
        seconds = len(x) / rate
        assert 0.2 < seconds < 2.0, f"{a.voice}: {seconds:.2f} s"
        assert np.sqrt(np.mean(x**2)) > 0.005, f"{a.voice} is silent"
    # the English voice after them says the same as on its own: the other voices left no settings behind
    alone = render_batch([english])[0]
    assert np.array_equal(out[-1][0], alone[0])


def test_a_missing_festival_voice_names_its_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    library = tmp_path / "festival"
    for language, voice in (("english", "kal_diphone"), ("english", "ked_diphone"), ("us", "cmu_us_slt_arctic_hts")):
        (library / "voices" / language / voice).mkdir(parents=True)
    monkeypatch.setattr(tts, "FESTIVAL_LIBRARIES", (library,))
    with pytest.raises(ToolMissingError, match="czech_krb") as e:
        check_engines(["festival"])
    assert "festvox-czech-krb" in e.value.hint and "festvox-ru" in e.value.hint


def test_accented_espeak_voices_are_new_speakers_in_each_language() -> None:
    english = voices("espeak-ng", accented=False)
    accented = voices("espeak-ng", accented=True)
    codes = {language.code for language in accents.LANGUAGES.values()}
    extra = [v for v in accented if v not in english]
    assert set(english) < set(accented)
    assert {v.voice.partition("+")[0] for v in extra} == codes
    assert len(extra) == len(codes) * len(tts.ESPEAK_VARIANTS)
    assert len({v.speaker for v in accented}) == len(accented)
    assert not {v.voice.partition("+")[0] for v in english} & codes


def test_accented_kokoro_mixtures_stay_their_speakers_one_language_each() -> None:
    english = voices(tts.KOKORO, accented=False, kokoro_english=False)
    accented = voices(tts.KOKORO, accented=True, kokoro_english=False)
    extra = [v for v in accented if v not in english]
    assert len(extra) == len({v.speaker for v in english}) == 35
    assert {v.speaker for v in extra} == {v.speaker for v in english}  # the same voices, another accent
    used = [v.voice.partition("/")[0] for v in extra]
    assert set(used) == {language.code for language in accents.LANGUAGES.values()}
    assert max(used.count(c) for c in set(used)) - min(used.count(c) for c in set(used)) <= 1  # in turn


def test_festival_without_accents_keeps_its_english_voices() -> None:
    assert {v.voice for v in voices("festival", accented=False)} == set(tts.FESTIVAL_VOICES)


def test_accented_voices_are_given_the_respelled_word() -> None:
    said = render_batch([Render(tts.Voice("espeak-ng", "cs+m3", "s"), w, 1.0) for w in ("right", "rajt", "left")])
    assert np.array_equal(said[0][0], said[1][0])  # "right" in Czech is read as "rajt"
    assert not np.array_equal(said[0][0], said[2][0])
    assert accents.spoken("cs", "right") == "rajt"
    assert accents.spoken("en-gb", "right") == "right"
    assert accents.spoken("cs", "zebra") == "zebra"


def test_accents_for_an_engine_without_them_are_refused() -> None:
    with pytest.raises(ConfigError, match="no accented voices for 'flite'"):
        tts.check_accents(["festival", "flite"])
    tts.check_accents(tts.ACCENTED_ENGINES)
