"""The offline TTS engines (espeak-ng, flite, festival, Kokoro): their voices and how to render one word.

Each engine but flite can also speak the words respelled for Italian, Czech, Finnish, Catalan and Russian
(accents.py): festival with voices recorded from speakers of those languages, espeak-ng and Kokoro through
their phonemisers for them.

Each voice is a speaker for the splits, except where two engines share a recording: flite's `kal`/`kal16`
and festival's `kal_diphone` are one CMU speaker, flite's `slt` and festival's `cmu_us_slt_arctic_hts`
another. Those share a speaker id so that no human voice sits on both sides of a split.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nanokws.audio import read_float
from nanokws.data import accents, kokoro
from nanokws.errors import AudioError, ConfigError, ToolMissingError

ESPEAK_ACCENTS: tuple[str, ...] = (
    "en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029", "en-us-nyc",
)  # fmt: skip
# Variants that still sound like a person (the robotic ones are left out).
ESPEAK_VARIANTS: tuple[str, ...] = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5", "croak", "whisper",
    "whisperf", "klatt", "klatt2", "klatt3", "klatt4", "grandma", "grandpa", "Annie", "Andy", "Michael",
    "steph", "travis", "shelby", "zac", "linda", "aunty", "edward",
)  # fmt: skip
FLITE_VOICES: dict[str, str] = {
    "kal": "cmu-kal",
    "kal16": "cmu-kal",
    "awb": "cmu-awb",
    "rms": "cmu-rms",
    "slt": "cmu-slt",
}
FESTIVAL_VOICES: dict[str, str] = {
    "kal_diphone": "cmu-kal",
    "ked_diphone": "cmu-ked",
    "cmu_us_slt_arctic_hts": "cmu-slt",
}
# The Debian package of each festival voice (the accented ones: accents.ACCENT_VOICES).
FESTIVAL_PACKAGES: dict[str, str] = {
    "kal_diphone": "festvox-kallpc16k",
    "ked_diphone": "festvox-kdlpc16k",
    "cmu_us_slt_arctic_hts": "festvox-us-slt-hts",
    **{a.voice: a.package for a in accents.ACCENT_VOICES},
}
KOKORO = "kokoro"
ACCENTED_ENGINES: tuple[str, ...] = ("espeak-ng", "festival", KOKORO)
# Where festival looks for its voices (Debian's layout).
FESTIVAL_LIBRARIES: tuple[Path, ...] = (Path("/usr/share/festival"),)
# The program each engine needs (Kokoro is a Python package, and phonemises with espeak-ng).
ENGINE_PROGRAMS: dict[str, str] = {
    "espeak-ng": "espeak-ng",
    "flite": "flite",
    "festival": "festival",
    KOKORO: "espeak-ng",
}
ENGINE_PACKAGES: dict[str, str] = {
    "espeak-ng": "espeak-ng",
    "flite": "flite",
    "festival": " ".join(("festival", *FESTIVAL_PACKAGES.values())),
    KOKORO: "espeak-ng",
}


@dataclass(frozen=True, order=True)
class Voice:
    engine: str
    voice: str  # the engine's own voice id
    speaker: str  # the human (or synthetic) identity behind it


@dataclass(frozen=True, order=True)
class Render:
    """One TTS call: a word in a voice at a speaking-rate factor (>1 is slower, longer)."""

    voice: Voice
    word: str
    stretch: float


def voices(engine: str, accented: bool, kokoro_english: bool = True) -> list[Voice]:
    """The engine's voices; `accented` adds its voices speaking the respelled words of accents.LANGUAGES.

    espeak-ng: every variant in each of those languages, a new speaker each. Festival: the voices recorded
    from speakers of those languages. Kokoro: each Japanese speakers' mixture also in one of those languages
    (taken in turn), which stays the mixture's speaker; with `kokoro_english`, its English voices and their
    mixtures too, each in its own accent only. flite has no accented voices.
    """
    codes = list(accents.BY_CODE)
    if engine == "espeak-ng":
        languages = [*ESPEAK_ACCENTS, *(codes if accented else ())]
        return [
            Voice(engine, f"{language}+{variant}", f"espeak-ng:{language}+{variant}")
            for language in languages
            for variant in ESPEAK_VARIANTS
        ]
    if engine == "flite":
        return [Voice(engine, v, s) for v, s in FLITE_VOICES.items()]
    if engine == "festival":
        english = [Voice(engine, v, s) for v, s in FESTIVAL_VOICES.items()]
        return english + ([Voice(engine, a.voice, a.speaker) for a in accents.ACCENT_VOICES] if accented else [])
    if engine == KOKORO:
        found = []
        for i, mix in enumerate(kokoro.mixes()):
            languages = [*kokoro.ACCENTS, *([codes[i % len(codes)]] if accented else [])]
            found += [Voice(engine, kokoro.voice_id(language, mix), f"kokoro:{mix.spec}") for language in languages]
        if kokoro_english:
            found += [
                Voice(engine, kokoro.voice_id(kokoro.native_accent(mix.parts[0][0]), mix), f"kokoro:{mix.spec}")
                for mix in kokoro.english_mixes()
            ]
        return found
    raise ToolMissingError(f"unknown TTS engine {engine!r}", hint=f"choose from {', '.join(ENGINE_PROGRAMS)}")


def check_accents(accented: Sequence[str]) -> None:
    """Only espeak-ng, festival and Kokoro have accented voices."""
    wrong = [e for e in accented if e not in ACCENTED_ENGINES]
    if wrong:
        raise ConfigError(
            f"no accented voices for {', '.join(repr(e) for e in wrong)}",
            hint=f"accents are for {', '.join(ACCENTED_ENGINES)}",
        )


def check_engines(engines: Sequence[str]) -> None:
    unknown = [e for e in engines if e not in ENGINE_PROGRAMS]
    if unknown or not engines:
        raise ToolMissingError(
            f"unknown TTS engine(s): {', '.join(repr(e) for e in unknown) or 'none given'}",
            hint=f"choose from {', '.join(ENGINE_PROGRAMS)}",
        )
    missing = [e for e in engines if shutil.which(ENGINE_PROGRAMS.get(e, e)) is None]
    if missing:
        pkgs = " ".join(ENGINE_PACKAGES.get(e, e) for e in missing)
        raise ToolMissingError(
            f"TTS engine(s) not installed: {', '.join(missing)}",
            hint=f"run `make setup`, or `sudo apt-get install {pkgs}`, or leave them out with --engines",
        )
    if "festival" in engines:
        _check_festival_voices()
    if KOKORO in engines:
        kokoro.prepare_model()  # once, here: workers assembling it at the same time can load it half-written


def _festival_voice_dirs() -> set[str]:
    """The voices festival can load: the folders under its library's `voices/<language>/`."""
    found: set[str] = set()
    for root in FESTIVAL_LIBRARIES:
        found |= {d.name for d in root.glob("voices/*/*") if d.is_dir()}
    return found


def _check_festival_voices() -> None:
    installed = _festival_voice_dirs()
    missing = sorted(v for v in FESTIVAL_PACKAGES if v not in installed)
    if missing:
        packages = " ".join(sorted({FESTIVAL_PACKAGES[v] for v in missing}))
        raise ToolMissingError(
            f"festival voice(s) not installed: {', '.join(missing)} (looked in "
            f"{', '.join(str(r / 'voices') for r in FESTIVAL_LIBRARIES)})",
            hint=f"run `make setup`, or `sudo apt-get install {packages}`, or leave festival out with --engines",
        )


def _run(cmd: list[str], what: str, stdin: str | None = None) -> None:
    try:
        subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True, timeout=300)
    except FileNotFoundError as e:
        raise ToolMissingError(f"{cmd[0]} is not installed", hint="run `make setup`") from e
    except subprocess.CalledProcessError as e:
        raise AudioError(f"{what} failed: {e.stderr.strip()[:500]}") from e


def _render_espeak(r: Render, out: Path) -> None:
    # espeak-ng speaks at 175 words per minute by default; the stretch slows it down or speeds it up.
    rate = round(175 / r.stretch)
    text = accents.spoken(r.voice.voice.partition("+")[0], r.word)
    _run(
        ["espeak-ng", "-v", r.voice.voice, "-s", str(rate), "-w", str(out), text],
        f"espeak-ng {r.voice.voice}",
    )


def _render_flite(r: Render, out: Path) -> None:
    cmd = [
        "flite",
        "-voice",
        r.voice.voice,
        "--setf",
        f"duration_stretch={r.stretch}",
        "-t",
        r.word,
        "-o",
        str(out),
    ]
    _run(cmd, f"flite {r.voice.voice}")


def _render_festival(renders: Sequence[Render], outs: Sequence[Path]) -> None:
    """One festival process for many words: its start-up (about 0.5 s) dominates a single word. Each voice's
    lines are written in the encoding of its language's lexicon (festival reads bytes)."""
    script_bytes = b""
    for r, out in zip(renders, outs, strict=True):
        text, encoding = accents.text_for(r.voice.voice, r.word)
        text = text.replace('"', "")
        lines = (
            f"(voice_{r.voice.voice})\n(Parameter.set 'Duration_Stretch {r.stretch})\n"
            f'(utt.save.wave (utt.synth (Utterance Text "{text}")) "{out}" \'riff)\n'
        )
        script_bytes += lines.encode(encoding)
    with tempfile.NamedTemporaryFile("wb", suffix=".scm", delete=False) as f:
        f.write(script_bytes)
        script = f.name
    try:
        _run(["festival", "--batch", script], "festival")
    finally:
        Path(script).unlink(missing_ok=True)


def _render_kokoro(renders: Sequence[Render]) -> list[np.ndarray]:
    if not renders:
        return []
    engine = kokoro.Kokoro()  # loading the model takes about a second: one per batch
    items = [(accents.spoken(r.voice.voice.partition("/")[0], r.word), r.voice.voice, r.stretch) for r in renders]
    return engine.render_many(items)


def render_batch(renders: Sequence[Render]) -> list[tuple[np.ndarray, int]]:
    """Render words (all from one engine for festival's sake, any mix otherwise) to float audio."""
    with tempfile.TemporaryDirectory(prefix="nanokws-tts-") as tmp:
        outs = [Path(tmp) / f"{i}.wav" for i in range(len(renders))]
        fest = [(r, o) for r, o in zip(renders, outs, strict=True) if r.voice.engine == "festival"]
        if fest:
            _render_festival([r for r, _ in fest], [o for _, o in fest])
        for r, out in zip(renders, outs, strict=True):
            if r.voice.engine == "espeak-ng":
                _render_espeak(r, out)
            elif r.voice.engine == "flite":
                _render_flite(r, out)
        neural = [r for r in renders if r.voice.engine == KOKORO]
        spoken = dict(zip(neural, _render_kokoro(neural), strict=True))
        result = []
        for r, out in zip(renders, outs, strict=True):
            if r in spoken:
                result.append((spoken[r], kokoro.SAMPLE_RATE))
                continue
            if not out.is_file():
                raise AudioError(f"{r.voice.engine} produced no audio for {r.word!r} in voice {r.voice.voice}")
            x, rate, _ = read_float(out)
            result.append((x, rate))
        return result
