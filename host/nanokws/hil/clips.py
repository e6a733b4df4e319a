"""Classify clips on the streaming firmware: each clip becomes one segment of a stream, laid out so that a
model result falls exactly where the segment's last frame ends and sees exactly the clip's frames.

The firmware is not told about clips (its loop is the one on the board); the layout does it. A segment is
zeros, then the first (frames - 1) * hop + window samples of the clip (all that its frames cover), its
length a whole number of detector strides; the front end's frames then line up with the clip's as in
training (DESIGN.md §2), and the result at the segment's end is the clip's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nanokws.codegen.frontend_export import preroll_samples
from nanokws.tflite.metadata import ModelInfo


@dataclass(frozen=True)
class ClipLayout:
    segment_samples: int
    covered_samples: int  # of each clip, from its start
    hop_samples: int
    hop_ms: int

    def result_time_ms(self, clip_index: int) -> int:
        return (clip_index + 1) * (self.segment_samples // self.hop_samples) * self.hop_ms


def clip_layout(info: ModelInfo) -> ClipLayout:
    fe, det = info.frontend, info.detector
    covered = (fe.n_frames - 1) * fe.hop_samples + fe.window_samples
    hops = (preroll_samples(fe) + covered) // fe.hop_samples  # a whole number by construction of the pre-roll
    strides = -(-hops // det.stride_hops)
    return ClipLayout(
        segment_samples=strides * det.stride_hops * fe.hop_samples,
        covered_samples=covered,
        hop_samples=fe.hop_samples,
        hop_ms=fe.hop_ms,
    )


def clips_stream(clips: np.ndarray, layout: ClipLayout) -> np.ndarray:
    """int16 clips [N, samples] -> one int16 stream of N segments."""
    segments = np.zeros((len(clips), layout.segment_samples), dtype=np.int16)
    segments[:, layout.segment_samples - layout.covered_samples :] = clips[:, : layout.covered_samples]
    return segments.reshape(-1)


def clip_outputs(times_ms: list[int], outputs: np.ndarray, n_clips: int, layout: ClipLayout) -> np.ndarray:
    """Pick each clip's model result out of a stream's results (by time)."""
    at = {t: i for i, t in enumerate(times_ms)}
    missing = [k for k in range(n_clips) if layout.result_time_ms(k) not in at]
    if missing:
        raise ValueError(f"no model result at the end of clip {missing[0]} (of {len(missing)} missing)")
    return np.stack([outputs[at[layout.result_time_ms(k)]] for k in range(n_clips)])
