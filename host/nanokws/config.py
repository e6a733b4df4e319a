"""Run configuration: frozen dataclasses stored as the run's `config.json`, the one source of truth."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from nanokws import atomic
from nanokws.errors import ConfigError
from nanokws.labels import FILLER_WORDS, KEYWORDS, LABELS

SEED = 42


@dataclass(frozen=True)
class FrontendConfig:
    """The MFCC front end shared by the trainer and the firmware (DESIGN.md §2)."""

    sample_rate: int = 16000
    clip_ms: int = 1000
    window_ms: int = 30
    hop_ms: int = 20
    fft_size: int = 512
    window: str = "hann"  # periodic Hann, as STFT implementations use
    n_mels: int = 40
    mel_low_hz: float = 20.0
    # 4 kHz as Hello Edge and MLPerf Tiny. Measured on the default student (int8, held-out espeak-ng / Kokoro,
    # one seed): 0.526 / 0.557 at 4000 Hz, 0.534 / 0.512 at 7600 Hz.
    mel_high_hz: float = 4000.0
    mel_scale: str = "htk"
    log_floor: float = 1e-6  # power floor before the natural log: digital silence maps to log(1e-6)
    n_mfcc: int = 10
    # "cmn": over the model's input window, each coefficient but c0 has its mean removed (cepstral mean
    # normalisation: a fixed spectral colour of voice, engine, microphone or room cancels; c0 keeps the
    # loudness that tells speech from silence). "none": the coefficients as they are.
    normalize: str = "cmn"

    def __post_init__(self) -> None:
        if self.window_samples > self.fft_size:
            raise ConfigError(f"window of {self.window_samples} samples is longer than the FFT ({self.fft_size})")
        if not 0 <= self.mel_low_hz < self.mel_high_hz <= self.sample_rate / 2:
            raise ConfigError(
                f"mel band {self.mel_low_hz}-{self.mel_high_hz} Hz must lie within 0-{self.sample_rate / 2} Hz"
            )
        if not 0 < self.n_mfcc <= self.n_mels:
            raise ConfigError(f"n_mfcc={self.n_mfcc} must be between 1 and n_mels={self.n_mels}")
        if self.normalize not in ("none", "cmn"):
            raise ConfigError(f"unknown front-end normalize={self.normalize!r}: use 'none' or 'cmn'")
        if self.window != "hann" or self.mel_scale != "htk":
            raise ConfigError("only the periodic Hann window and the HTK mel scale are implemented")
        if self.fft_size < 4 or self.fft_size & (self.fft_size - 1):
            raise ConfigError(f"fft_size={self.fft_size} must be a power of two (the C front end's FFT is radix 2)")
        if (self.sample_rate * self.hop_ms) % 1000 or (self.sample_rate * self.window_ms) % 1000:
            raise ConfigError("window_ms and hop_ms must be whole numbers of samples at the sample rate")
        if not 0 < self.hop_samples <= self.window_samples:
            raise ConfigError(
                f"hop of {self.hop_samples} samples must be between 1 and the window ({self.window_samples})"
            )

    @property
    def clip_samples(self) -> int:
        return self.sample_rate * self.clip_ms // 1000

    @property
    def window_samples(self) -> int:
        return self.sample_rate * self.window_ms // 1000

    @property
    def hop_samples(self) -> int:
        return self.sample_rate * self.hop_ms // 1000

    @property
    def n_frames(self) -> int:
        return 1 + (self.clip_samples - self.window_samples) // self.hop_samples

    @property
    def n_bins(self) -> int:
        return self.fft_size // 2 + 1


@dataclass(frozen=True)
class SynthConfig:
    """What `host data synth` generates: engines, words and how many augmented clips of each class."""

    engines: tuple[str, ...] = ("espeak-ng", "flite", "festival", "kokoro")
    # Engines that also speak the words with the accents of data/accents.py (`tts.voices`).
    accented_engines: tuple[str, ...] = ("festival",)
    # Kokoro speaks with its 28 English voices and their mixtures too (84 speakers), not only with the five
    # Japanese speakers' 35 mixtures: native English neural voices, the nearest to people offline.
    kokoro_english: bool = True
    keywords: tuple[str, ...] = KEYWORDS
    filler_words: tuple[str, ...] = FILLER_WORDS
    clips_per_keyword: int = 300
    # `_unknown_` and `_silence_` each get as many clips as one keyword: each about 1/12 of the data,
    # close to the 10% of the standard recipe.
    unknown_clips: int = 300
    silence_clips: int = 300
    noise_seconds: int = 30  # length of each `_background_noise_` file
    # Measured on 300 clips a keyword, DS-CNN S, 15 epochs: harsher settings (SNR from 5 dB, noise on 80%,
    # gain to -20 dB, speed +-15%, pitch +-2 semitones) gave 0.78 on held-out voices of the same engines and
    # 0.47 on the validation split (mostly unseen voices); milder ones (10 dB, 50%, -10 dB, +-10%, +-1)
    # 0.88 and 0.43. These defaults sit between the two.
    snr_db: tuple[float, float] = (8.0, 35.0)
    noise_probability: float = 0.65
    reverb_probability: float = 0.25
    speed_range: tuple[float, float] = (0.88, 1.12)
    pitch_semitones: float = 1.5
    gain_db: tuple[float, float] = (-15.0, 0.0)


@dataclass(frozen=True)
class SplitConfig:
    """Speaker-disjoint split by a stable hash of the speaker id, as Speech Commands does."""

    validation_percent: float = 10.0
    test_percent: float = 10.0


@dataclass(frozen=True)
class DetectorConfig:
    """The streaming detector (DESIGN.md §4), the same in the firmware and in its Python twin.

    The model runs every `stride_hops` hops on the last `n_frames` feature rows; scores are the int8
    softmax outputs as 0..255. A keyword is reported when its score averaged over the results of the last
    `window_ms` (at least `min_results` of them) reaches `threshold` and no keyword was reported in the
    last `suppression_ms`. Starting point: TFLM micro_speech's RecognizeCommands defaults.
    """

    stride_hops: int = 5  # 100 ms at 20 ms hops: ten results in a 1 s window
    window_ms: int = 1000
    threshold: int = 200  # of 255
    suppression_ms: int = 1500
    min_results: int = 3

    def __post_init__(self) -> None:
        if self.stride_hops < 1 or self.window_ms < 1 or self.suppression_ms < 0 or self.min_results < 1:
            raise ConfigError(f"invalid detector settings: {self}")
        if not 0 <= self.threshold <= 255:
            raise ConfigError(f"detector threshold {self.threshold} must lie in 0..255")


@dataclass(frozen=True)
class RunConfig:
    seed: int = SEED
    labels: tuple[str, ...] = LABELS
    frontend: FrontendConfig = field(default_factory=FrontendConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        return dataclass_from_dict(cls, d)


T = TypeVar("T")


def dataclass_from_dict(cls: type[T], d: dict[str, Any]) -> T:
    """Rebuild a (nested) frozen dataclass from JSON: lists become tuples, unknown keys are an error."""
    if not isinstance(d, dict):
        raise ConfigError(f"expected an object for {cls.__name__}, got {type(d).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(d) - set(fields)
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} settings: {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for name, value in d.items():
        default = getattr(cls(), name) if _has_defaults(cls) else None
        if dataclasses.is_dataclass(default):
            kwargs[name] = dataclass_from_dict(type(default), value)
        elif isinstance(value, list):
            kwargs[name] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        else:
            kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ConfigError(f"invalid {cls.__name__}: {e}") from e


def _has_defaults(cls: type) -> bool:
    return all(
        f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        for f in dataclasses.fields(cls)
    )


def dataclass_to_json(obj: Any) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(obj)))


def load_config(path: Path) -> RunConfig:
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError as e:
        raise ConfigError("no config.json in the run directory", path=path) from e
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"config.json is not valid JSON ({e})", path=path, hint="delete the run directory and start again"
        ) from e
    try:
        return RunConfig.from_dict(raw)
    except ConfigError as e:
        if e.path is not None:
            raise
        raise ConfigError(
            f"config.json does not fit this version of nanokws: {e.what}",
            path=path,
            hint="it was made by another version or edited by hand: fix the setting, or start a new run",
        ) from e


def save_config(path: Path, config: RunConfig) -> None:
    atomic.write_json(path, config.to_dict())
