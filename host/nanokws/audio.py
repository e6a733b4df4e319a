"""Reading and normalising clips: any readable file in, 16 kHz mono int16 of a fixed length out."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from scipy.signal import resample_poly

from nanokws.errors import AudioError


@dataclass(frozen=True)
class Clip:
    """A normalised clip and what was done to it to get there (for warnings)."""

    samples: np.ndarray  # int16, mono, exactly the requested length
    original_rate: int
    original_channels: int
    original_seconds: float


def to_int16(x: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] to int16 with saturation."""
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def to_float(x: np.ndarray) -> np.ndarray:
    """int16 audio to float32 in [-1, 1)."""
    return x.astype(np.float32) / 32768.0


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Polyphase resampling (float in, float out); exact ratio, no drift over long files."""
    if rate_in == rate_out:
        return x
    g = gcd(rate_in, rate_out)
    return resample_poly(x, rate_out // g, rate_in // g).astype(np.float32)


def fit_length(x: np.ndarray, n: int) -> np.ndarray:
    """Zero-pad (both sides equally) or centre-crop to exactly n samples."""
    if x.size == n:
        return x
    if x.size < n:
        left = (n - x.size) // 2
        return np.pad(x, (left, n - x.size - left))
    start = (x.size - n) // 2
    return x[start : start + n]


def read_float(path: Path, data: bytes | None = None) -> tuple[np.ndarray, int, int]:
    """Read audio as float32 mono: from `path`, or from `data` (encoded bytes named by `path`).

    Rejects what is not usable audio (undecodable, empty, NaN or infinite samples) with the reason.
    Returns (samples, sample rate, original channel count).
    """
    if data is None and not path.is_file():
        raise AudioError("audio file not found or not a file", path=path)
    try:
        source = io.BytesIO(data) if data is not None else str(path)
        samples, rate = sf.read(source, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError, EOFError, TypeError) as e:
        raise AudioError(
            f"cannot decode audio ({e})",
            path=path,
            hint="re-export it as 16 kHz mono 16-bit WAV, or remove it",
        ) from e
    if samples.shape[0] == 0:
        raise AudioError("audio file holds no samples", path=path, hint="remove it or record it again")
    if not np.all(np.isfinite(samples)):
        raise AudioError("audio holds NaN or infinite samples", path=path, hint="re-export or remove it")
    return samples.mean(axis=1).astype(np.float32), int(rate), samples.shape[1]


# A clip holds one word; a file this long is a recording, which `host spot` is for (centre-cropping it to
# one second would keep an arbitrary second of it, and decoding it whole would take the memory of hours).
MAX_CLIP_SECONDS = 10.0


def load_clip(path: Path, sample_rate: int, n_samples: int, data: bytes | None = None) -> Clip:
    """Read a clip and normalise it: mix to mono, resample to `sample_rate`, pad or centre-crop."""
    if data is None and path.is_file():
        try:
            duration = sf.info(str(path)).duration
        except (sf.LibsndfileError, RuntimeError) as e:
            raise AudioError(f"cannot decode audio ({e})", path=path, hint="re-export it as WAV, or remove it") from e
        if duration > MAX_CLIP_SECONDS:
            raise AudioError(
                f"audio is {duration:.0f} s long, not a clip (at most {MAX_CLIP_SECONDS:.0f} s)",
                path=path,
                hint="a clip holds one word; find keywords in recordings with `host spot`",
            )
    mono, rate, channels = read_float(path, data)
    seconds = mono.size / rate
    if seconds > MAX_CLIP_SECONDS:
        raise AudioError(
            f"audio is {seconds:.0f} s long, not a clip (at most {MAX_CLIP_SECONDS:.0f} s)",
            path=path,
            hint="a clip holds one word; find keywords in recordings with `host spot`",
        )
    mono = resample(mono, rate, sample_rate)
    return Clip(
        samples=to_int16(fit_length(mono, n_samples)),
        original_rate=rate,
        original_channels=channels,
        original_seconds=seconds,
    )


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write int16 mono PCM WAV (the Speech Commands format)."""
    if samples.dtype != np.int16:
        raise TypeError(f"write_wav expects int16 samples, got {samples.dtype}")
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, sample_rate, subtype="PCM_16")


def read_wav_int16(path: Path) -> tuple[np.ndarray, int]:
    """Read a WAV the project wrote itself (int16 mono), as int16."""
    data, rate = sf.read(str(path), dtype="int16")
    return data, int(rate)


STREAM_BLOCK_SECONDS = 30.0


def iter_stream(path: Path, sample_rate: int, block_seconds: float = STREAM_BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """Decode audio of any length block by block, as the firmware would hear it: mono, resampled to
    `sample_rate` with a streaming resampler (soxr: blocks join without seams), int16. A mono 16-bit file
    already at `sample_rate` passes through sample for sample. Never holds the whole file."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise AudioError(f"cannot decode audio ({e})", path=path, hint="convert it to WAV or FLAC") from e
    if info.frames == 0:
        raise AudioError("audio file holds no samples", path=path)
    exact = info.samplerate == sample_rate and info.channels == 1 and info.subtype == "PCM_16"
    resampler = None if info.samplerate == sample_rate else soxr.ResampleStream(info.samplerate, sample_rate, 1)
    block = max(1, int(block_seconds * info.samplerate))
    try:
        with sf.SoundFile(str(path)) as f:
            for chunk in f.blocks(blocksize=block, dtype="int16" if exact else "float32", always_2d=True):
                if exact:
                    yield chunk[:, 0].copy()
                    continue
                mono = chunk.mean(axis=1, dtype=np.float32)
                if not np.all(np.isfinite(mono)):
                    raise AudioError("audio holds NaN or infinite samples", path=path)
                yield to_int16(resampler.resample_chunk(mono) if resampler else mono)
    except sf.LibsndfileError as e:
        raise AudioError(f"cannot decode audio ({e})", path=path, hint="the file may be truncated") from e
    if resampler is not None:
        yield to_int16(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True))


def load_stream(path: Path, sample_rate: int) -> np.ndarray:
    """A whole recording as `iter_stream` decodes it (for recordings that fit in memory)."""
    return np.concatenate(list(iter_stream(path, sample_rate)))
