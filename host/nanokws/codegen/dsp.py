"""The constants of the Cortex-M4 DSP kernels (firmware/lib/kws/kws_kernels_dsp.h), laid out at export.

For each CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED step, `dsp_layer` either returns the layer in the
DSP kernels' layout or None, and then the layer keeps the portable kernel in Cortex-M4 builds too. A layer
qualifies only when the fast requantization (kws_dsp.h) is provably exact for every possible input:

- every channel shifts right (right shift >= 1) and shifts left by at most 7 (int16 weights x 2^(left+1));
- the worst-case accumulator (TFLite's, with the input offset), scaled by 2^(left+1), and the rounded
  product plus the offset K stay inside int32.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nanokws.codegen.lowering import ConstArray, Step

INT32_LIMIT = 2**31 - 1
MAX_LEFT_SHIFT = 7  # |w| <= 128, so w * 2^(7+1) still fits int16
SXTB16_ORDER = (0, 2, 1, 3)  # the order SXTB16 and SXTB16 ROR #8 unpack a word's four bytes in
DSP_HEADER = Path(__file__).resolve().parents[3] / "firmware" / "lib" / "kws" / "kws_kernels_dsp.h"


@functools.cache
def header_constant(name: str) -> int:
    """A `#define NAME <int>` of kws_kernels_dsp.h: the kernels' limits, read from their one definition."""
    match = re.search(rf"^#define {name} (\d+)$", DSP_HEADER.read_text(encoding="utf-8"), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"{DSP_HEADER}: no #define {name}")
    return int(match.group(1))


@dataclass(frozen=True)
class DspLayer:
    """One layer for a DSP kernel: `kind` is conv (also FULLY_CONNECTED, as a 1x1 conv) or depthwise_conv."""

    kind: str
    params: Mapping[str, Any]  # the fields of kws_dsp_conv_params / kws_dsp_dw_params
    input_dims: tuple[int, int, int, int]
    filter_dims: tuple[int, int, int, int]
    output_dims: tuple[int, int, int, int]
    # int32 words, weights and per-channel constants in the order the kernel reads them (kws_kernels_dsp.h)
    channels: np.ndarray = field(compare=False, repr=False)
    scratch_elements: int  # int16 values of scratch the call needs

    @property
    def arrays(self) -> tuple[ConstArray, ...]:
        """The layer's constants as `op<index>_dsp_<role>` arrays in flash."""
        return (ConstArray("dsp_channels", "int32_t", self.channels.reshape(-1)),)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays)


def _array(step: Step, role: str) -> np.ndarray | None:
    a = step.array(role)
    return None if a is None else np.asarray(a.values).astype(np.int64)


def _requant(
    step: Step, channels: int, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Per-channel (scale 2^(left+1), bias', M, K, right) for weight rows [channels, depth], or None if the
    fast requantization is not exact for this layer."""
    mult = _array(step, "multiplier")
    shift = _array(step, "shift")
    assert mult is not None and shift is not None
    if mult.size == 1:  # per-tensor FULLY_CONNECTED
        mult, shift = np.repeat(mult, channels), np.repeat(shift, channels)
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    if (right < 1).any() or (left > MAX_LEFT_SHIFT).any():
        return None
    bias = _array(step, "bias")
    bias = np.zeros(channels, np.int64) if bias is None else bias
    input_offset = int(step.params["input_offset"])
    scale = np.left_shift(np.int64(1), left + 1)
    folded = (bias + input_offset * rows.sum(axis=1)) * scale
    # TFLite's accumulator for any input in [-128, 127], then the kernel's, which is 2^(left+1) times it.
    worst = np.abs(rows).sum(axis=1) * max(abs(-128 + input_offset), abs(127 + input_offset)) + np.abs(bias)
    out_zp = int(step.params["output_offset"])
    offset = out_zp * np.left_shift(np.int64(1), right) + np.left_shift(np.int64(1), right - 1)
    # |SRDHM(acc * 2^left, M)| <= |acc| * 2^left; the kernel adds K and the sign.
    if (worst * scale > INT32_LIMIT).any():
        return None
    if (worst * np.left_shift(np.int64(1), left) + np.abs(offset) + 1 > INT32_LIMIT).any():
        return None
    return scale, folded, mult, offset, right


def _conv(step: Step, in_dims: tuple[int, ...], f_dims: tuple[int, ...], out_dims: tuple[int, ...],
          stride: tuple[int, int], padding: tuple[int, int], dilation: tuple[int, int],
          w: np.ndarray) -> DspLayer | None:  # fmt: skip
    channels = int(out_dims[3])
    rows = w.reshape(channels, -1).astype(np.int64)
    rq = _requant(step, channels, rows)
    if rq is None:
        return None
    scale, bias, mult, offset, right = rq
    depth = -(-rows.shape[1] // 8) * 8  # the kernel's loop takes two groups of four a turn
    rows_bytes = header_constant("KWS_DSP_ROWS_ALIGN_MIN")
    while header_constant("KWS_DSP_ROWS_SLOTS") * depth * 2 > rows_bytes:
        rows_bytes *= 2
    if rows_bytes > header_constant("KWS_DSP_ROWS_ALIGN_MAX"):
        return None  # the rows of a block would not fit below the scratch's aligned boundary
    padded = -(-channels // 2) * 2
    table = np.zeros((padded, depth), np.int64)
    table[:channels, : rows.shape[1]] = rows * scale[:, None]
    order = np.array(SXTB16_ORDER)
    table = table.reshape(padded, depth // 4, 4)[:, :, np.argsort(order)]
    # [pair][group][channel of the pair][4] int16, as words of two
    halves = table.reshape(padded // 2, 2, depth // 4, 4).transpose(0, 2, 1, 3).reshape(padded // 2, depth, 2)
    words = (halves[..., 0] & 0xFFFF) + halves[..., 1] * 65536  # int32: the high half carries the sign

    def pad(values: np.ndarray, fill: int) -> np.ndarray:
        return np.concatenate([values, np.full(padded - channels, fill, np.int64)])

    bias, mult, offset, right = pad(bias, 0), pad(mult, 1 << 30), pad(offset, 0), pad(right, 1)
    tail = np.stack([mult, offset, right], axis=1).reshape(padded // 2, 6)  # M, K, right of both channels
    stream = np.concatenate([bias.reshape(padded // 2, 2), words, tail], axis=1)

    # A pointwise conv whose input channels fill whole groups of eight reads its rows straight from the
    # input (fill_pointwise); every other conv reads them from the input padded with the zero point (no
    # bounds tests in the row fill): (h, w) of the padded input, (0, 0) for none. Without padding that is
    # the input itself, and nothing is copied (copy_bytes).
    pointwise = tuple(f_dims[1:3]) == (1, 1) and stride == (1, 1) and padding == (0, 0) and in_dims[3] % 8 == 0
    pad_copy = (0, 0)
    if not pointwise:
        pad_copy = tuple(
            max((int(out_dims[a]) - 1) * stride[i] + (int(f_dims[a]) - 1) * dilation[i] + 1,
                padding[i] + int(in_dims[a]))
            for i, a in enumerate((1, 2))
        )  # fmt: skip
    params = {
        "zero_point": -int(step.params["input_offset"]),
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "depth": depth,
        "channels": channels,
        "rows_align": rows_bytes,  # raised to the model's largest by `align_rows`
        "padded": pad_copy,
        "activation": tuple(step.params["activation"]),
    }
    return DspLayer(
        "conv", params, _dims(in_dims), _dims(f_dims), _dims(out_dims),
        channels=stream,
        scratch_elements=rows_bytes // 2 + (copy_bytes(params, in_dims) + 1) // 2,
    )  # fmt: skip


def copy_bytes(params: Mapping[str, Any], in_dims: tuple[int, ...]) -> int:
    """Bytes of scratch for the conv kernel's zero-point-padded copy of the input: none where the padded
    input is the input itself (no padding; conv_dsp_s8.c reads it in place)."""
    h, w = params["padded"]
    if tuple(params["padding"]) == (0, 0) and (h, w) == (int(in_dims[1]), int(in_dims[2])):
        return 0
    return int(h) * int(w) * int(in_dims[3])


def _dims(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    n, h, w, c = (int(v) for v in shape)
    return n, h, w, c


def _depthwise(step: Step) -> DspLayer | None:
    p = step.params
    if tuple(p["stride"]) != (1, 1) or tuple(p["dilation"]) != (1, 1) or int(p["depth_multiplier"]) != 1:
        return None
    w = _array(step, "weights")
    assert w is not None
    _, fh, fw, channels = (int(v) for v in p["filter_dims"])
    taps = w.reshape(fh, fw, channels)  # [ky][kx][c]
    rq = _requant(step, channels, taps.reshape(fh * fw, channels).T)
    if rq is None:
        return None
    scale, bias, mult, offset, right = rq
    pairs = (fh + 1) // 2
    table = np.zeros((channels, fw, 2 * pairs), np.int64)  # [c][kx][ky, padded to even]
    table[:, :, :fh] = taps.transpose(2, 1, 0) * scale[:, None, None]
    if fh == 3:  # (t0, t1), (t1, t2): the pair of outputs y, y + 1 in four MACs (depthwise_dsp_m4.S)
        table[:, :, 2:] = table[:, :, 1:3]
    lo16, hi16 = table[:, :, 0::2] & 0xFFFF, table[:, :, 1::2]
    words = (lo16 + hi16 * 65536).reshape(channels, fw * pairs)  # (lo, hi) int16 pairs as int32 words
    out_h, out_w = int(p["output_dims"][1]), int(p["output_dims"][2])
    plane_h = -(-(out_h + 2 * pairs - 1) // 2) * 2  # the last output's tap pairs read that far
    plane_w = out_w + fw - 1
    params = {
        "zero_point": -int(p["input_offset"]),
        "padding": tuple(p["padding"]),
        "plane_h": plane_h,
        "plane_w": plane_w,
        "pairs": pairs,
        "activation": tuple(p["activation"]),
    }
    # One block per channel: the tap pairs, then bias', M, K, right (depthwise_conv_dsp_s8.c).
    blocks = np.concatenate([words, np.stack([bias, mult, offset, right], axis=1)], axis=1)
    return DspLayer(
        "depthwise_conv", params, _dims(p["input_dims"]), _dims(p["filter_dims"]), _dims(p["output_dims"]),
        channels=blocks,
        # an int16 plane for each channel copied at once
        scratch_elements=header_constant("KWS_DSP_DW_PLANES") * plane_h * plane_w,
    )  # fmt: skip


def align_rows(layers: Mapping[int, DspLayer]) -> tuple[dict[int, DspLayer], int]:
    """One scratch serves every layer: its alignment is the largest any conv layer needs, and every conv
    layer's rows end at that boundary. Returns the layers and the alignment in bytes (4 without convs)."""
    align = max((int(d.params["rows_align"]) for d in layers.values() if d.kind == "conv"), default=4)
    out = {}
    for index, d in layers.items():
        if d.kind == "conv":
            params = {**d.params, "rows_align": align}
            extra = copy_bytes(params, d.input_dims)
            d = dataclasses.replace(d, params=params, scratch_elements=align // 2 + (extra + 1) // 2)
        out[index] = d
    return out, align


def dsp_pool(step: Step) -> bool:
    """Whether the DSP average pool (avg_pool_dsp_s8.c) runs `step`: whole words of channels, and windows
    small enough for its int16 lanes."""
    if step.kind != "avg_pool":
        return False
    channels = int(step.params["input_dims"][3])
    fh, fw = (int(v) for v in step.params["filter"])
    return channels % 4 == 0 and fh * fw <= header_constant("KWS_DSP_POOL_MAX_WINDOW")


def dsp_layer(step: Step) -> DspLayer | None:
    """`step` in the DSP kernels' layout, or None where it keeps the portable kernel."""
    p = step.params
    w = _array(step, "weights")
    if step.kind == "conv":
        assert w is not None
        in_dims, f_dims = tuple(p["input_dims"]), tuple(p["filter_dims"])
        if f_dims[3] != in_dims[3]:  # grouped convolution
            return None
        return _conv(step, in_dims, f_dims, tuple(p["output_dims"]), tuple(p["stride"]), tuple(p["padding"]),
                     tuple(p["dilation"]), w)  # fmt: skip
    if step.kind == "fully_connected":
        assert w is not None
        batches, depth, units = int(p["batches"]), int(p["accum_depth"]), int(p["output_depth"])
        return _conv(step, (batches, 1, 1, depth), (units, 1, 1, depth), (batches, 1, 1, units), (1, 1), (0, 0),
                     (1, 1), w)  # fmt: skip
    if step.kind == "depthwise_conv":
        return _depthwise(step)
    return None
