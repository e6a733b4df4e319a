"""Turn each op of a checked graph into one kernel call: which kernel, its parameters (computed here, at
export, exactly as TFLM computes them when it prepares the op) and its constant arrays.

This is also where the supported set is enforced: every op and tensor the kernels cannot run exactly as
TFLM does is refused with the op named, its index, and what to change in the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np

from nanokws.codegen import quantization as qz
from nanokws.codegen.errors import DynamicShapeError, ExportError, NotInt8Error, UnsupportedOpError
from nanokws.codegen.graph import FULL_INT8_HINT, STATIC_BATCH_HINT, Graph, Op, Tensor

SUPPORTED_OPS = (
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED",
    "MEAN",
    "AVERAGE_POOL_2D",
    "MAX_POOL_2D",
    "RESHAPE",
    "SOFTMAX",
    "ADD",
    "SUB",
)
SUPPORTED_LAYERS = (
    "Conv2D, DepthwiseConv2D, Dense, AveragePooling2D, MaxPooling2D, GlobalAveragePooling2D, Reshape/Flatten, "
    "Add, Subtract (the second input may broadcast), Softmax, and ReLU/ReLU6 directly after a Conv2D, "
    "DepthwiseConv2D, Dense, pooling, Add or Subtract layer"
)
FUSE_HINT = (
    "place the activation directly after a Conv2D, DepthwiseConv2D, Dense, pooling, Add or Subtract layer (or use that "
    "layer's activation= argument) so that the converter fuses it into the op"
)
OP_HINTS = {
    "QUANTIZE": FULL_INT8_HINT,
    "DEQUANTIZE": FULL_INT8_HINT,
    "RELU": FUSE_HINT,
    "RELU6": FUSE_HINT,
    "RELU_N1_TO_1": FUSE_HINT,
    "SHAPE": STATIC_BATCH_HINT,
    "STRIDED_SLICE": STATIC_BATCH_HINT,
    "PACK": STATIC_BATCH_HINT,
    "SQUEEZE": "use a Reshape (or Flatten) layer instead; RESHAPE is supported",
    "EXPAND_DIMS": "use a Reshape layer instead; RESHAPE is supported",
}
SAME, VALID = 0, 1
PADDING_NAMES = {SAME: "SAME", VALID: "VALID"}
ACCUMULATOR_LIMIT = 2**31 - 1


@dataclass(frozen=True)
class ConstArray:
    """A constant array in flash: `op<index>_<role>` in the generated C."""

    role: str  # weights, bias, multiplier, shift (and dsp_* for the DSP kernels' layout, codegen.dsp)
    ctype: str  # int8_t, int16_t or int32_t
    values: np.ndarray = field(compare=False, repr=False)  # flat

    @property
    def nbytes(self) -> int:
        return int(self.values.size) * {"int8_t": 1, "int16_t": 2}.get(self.ctype, 4)


@dataclass(frozen=True)
class Step:
    """One kernel call of kws_model_invoke(): rendered by the template macro named `kind`."""

    index: int  # the op's index in the .tflite file
    op: str
    kind: str  # conv, depthwise_conv, fully_connected, avg_pool, max_pool, mean, add, softmax, reshape
    inputs: tuple[int, ...]  # activation tensors read
    output: int
    params: Mapping[str, Any]
    arrays: tuple[ConstArray, ...] = ()
    summary: str = ""

    def array(self, role: str) -> ConstArray | None:
        return next((a for a in self.arrays if a.role == role), None)

    @property
    def is_alias(self) -> bool:
        """The output shares the input's memory (RESHAPE): no code runs."""
        return self.kind == "reshape"


class _Lowering:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    # -- failures -------------------------------------------------------------------------------------
    def fail(
        self, op: Op, what: str, hint: str | None = None, kind: type[ExportError] = UnsupportedOpError
    ) -> NoReturn:
        raise kind(f"{op.describe()}: {what}", path=self.graph.origin, hint=hint)

    # -- tensors --------------------------------------------------------------------------------------
    def activation(self, op: Op, index: int, role: str, rank: int | None = None) -> Tensor:
        if index < 0:
            self.fail(op, f"its {role} is missing")
        t = self.graph.tensor(index)
        if t.dtype != "INT8":
            kind = NotInt8Error if t.dtype.startswith("FLOAT") else UnsupportedOpError
            self.fail(op, f"its {role} {t.describe()} is {t.dtype}, not int8", FULL_INT8_HINT, kind)
        if t.quant is None or len(t.quant.scale) != 1:
            self.fail(op, f"its {role} {t.describe()} is not quantized per tensor", FULL_INT8_HINT, NotInt8Error)
        if t.is_constant:
            self.fail(op, f"its {role} {t.describe()} is a constant; the kernel takes an activation there")
        if rank is not None and len(t.shape) != rank:
            self.fail(op, f"its {role} {t.describe()} has rank {len(t.shape)}; the kernel needs rank {rank}")
        return t

    def weights(self, op: Op, index: int, rank: int, channels: int, axis: int) -> Tensor:
        if index < 0:
            self.fail(op, "its weights are missing")
        t = self.graph.tensor(index)
        if t.dtype != "INT8":
            kind = NotInt8Error if t.dtype.startswith("FLOAT") else UnsupportedOpError
            self.fail(
                op, f"its weights {t.describe()} are {t.dtype}; the kernels take int8 weights", FULL_INT8_HINT, kind
            )
        if not t.is_constant:
            self.fail(op, f"its weights {t.describe()} are not constant", "multiply an activation by constant weights")
        if len(t.shape) != rank:
            self.fail(op, f"its weights {t.describe()} have rank {len(t.shape)}, expected {rank}")
        q = t.quant
        if q is None:
            self.fail(op, f"its weights {t.describe()} are not quantized", FULL_INT8_HINT, NotInt8Error)
        if len(q.scale) not in (1, channels) or (len(q.scale) > 1 and q.axis != axis):
            self.fail(op, f"its weights {t.describe()} are quantized along the wrong axis or channel count")
        if any(z != 0 for z in q.zero_point):
            self.fail(op, f"its weights {t.describe()} have a nonzero zero point; int8 weights are symmetric")
        return t

    def bias(self, op: Op, index: int, channels: int) -> np.ndarray | None:
        if index < 0:
            return None
        t = self.graph.tensor(index)
        if t.dtype != "INT32" or not t.is_constant or t.elements != channels:
            self.fail(op, f"its bias {t.describe()} is not a constant int32 vector of {channels}", FULL_INT8_HINT)
        return np.asarray(t.data).reshape(-1).astype(np.int32)

    def fused(self, op: Op, options: Any) -> int:
        act = int(getattr(options, "fusedActivationFunction", 0) or 0)
        if act not in qz.CLAMP_ACTIVATIONS:
            self.fail(op, f"its fused activation (type {act}) is not supported", "use ReLU or ReLU6 activations")
        return act

    def check_multipliers(self, op: Op, shifts: list[int]) -> None:
        if any(not -31 <= s <= 31 for s in shifts):
            self.fail(op, "its quantization scales give a rescaling factor outside 2^-31..2^31", FULL_INT8_HINT)

    def check_accumulators(self, op: Op, w: np.ndarray, bias: np.ndarray | None, input_zero_point: int) -> None:
        """Refuse weights whose int32 sums could overflow (TFLM would wrap; C would be undefined)."""
        per_channel = np.abs(w.astype(np.int64)).sum(axis=1)
        worst = per_channel * max(abs(-128 - input_zero_point), abs(127 - input_zero_point))
        if bias is not None:
            worst = worst + np.abs(bias.astype(np.int64))
        if int(worst.max(initial=0)) > ACCUMULATOR_LIMIT:
            self.fail(op, "its accumulators could overflow int32 (too many inputs per output)", "use smaller layers")

    # -- shapes ---------------------------------------------------------------------------------------
    def window(
        self, op: Op, padding: int, size: int, filt: int, stride: int, dilation: int, out: int, axis: str
    ) -> int:
        """TFLite's ComputeOutSize and ComputePaddingWithOffset: check the output size, return the padding
        before the first row or column."""
        if stride <= 0 or dilation <= 0 or filt <= 0 or padding not in PADDING_NAMES:
            self.fail(op, f"invalid window along {axis} (stride {stride}, dilation {dilation}, filter {filt})")
        effective = (filt - 1) * dilation + 1
        expected = (size + stride - 1) // stride if padding == SAME else (size + stride - effective) // stride
        if expected != out or out <= 0:
            self.fail(op, f"its output {axis} is {out}, but {PADDING_NAMES[padding]} padding gives {expected}")
        total = max(0, (out - 1) * stride + effective - size)
        pad = total // 2
        if pad >= effective or (out - 1) * stride - pad >= size:
            self.fail(op, f"a window along {axis} lies entirely in the padding")
        return pad

    # -- ops ------------------------------------------------------------------------------------------
    def conv(self, op: Op) -> Step:
        o = op.options
        x = self.activation(op, op.inputs[0], "input", rank=4)
        y = self.activation(op, op.outputs[0], "output", rank=4)
        out_c = y.shape[3]
        w = self.weights(op, op.inputs[1], rank=4, channels=out_c, axis=0)
        if w.shape[0] != out_c or w.shape[3] <= 0 or x.shape[3] % w.shape[3] or out_c % (x.shape[3] // w.shape[3]):
            self.fail(op, f"weights {list(w.shape)} do not fit input {list(x.shape)} and output {list(y.shape)}")
        if x.shape[0] != y.shape[0]:
            self.fail(op, "input and output batch sizes differ")
        bias = self.bias(op, op.inputs[2] if len(op.inputs) > 2 else -1, out_c)
        act = self.fused(op, o)
        pad_h = self.window(op, o.padding, x.shape[1], w.shape[1], o.strideH, o.dilationHFactor, y.shape[1], "height")
        pad_w = self.window(op, o.padding, x.shape[2], w.shape[2], o.strideW, o.dilationWFactor, y.shape[2], "width")
        assert x.quant and y.quant and w.quant and w.data is not None
        mult, shift = qz.per_channel_multipliers(x.quant.scale[0], list(w.quant.scale), y.quant.scale[0], out_c)
        self.check_multipliers(op, shift)
        self.check_accumulators(op, w.data.reshape(out_c, -1), bias, x.quant.zero_point[0])
        lo, hi = qz.activation_range(act, y.quant.scale[0], y.quant.zero_point[0])
        params = {
            "input_offset": -x.quant.zero_point[0],
            "output_offset": y.quant.zero_point[0],
            "stride": (o.strideH, o.strideW),
            "padding": (pad_h, pad_w),
            "dilation": (o.dilationHFactor, o.dilationWFactor),
            "activation": (lo, hi),
            "input_dims": x.shape,
            "filter_dims": w.shape,
            "output_dims": y.shape,
        }
        dilated = (o.dilationHFactor, o.dilationWFactor) != (1, 1)
        summary = (
            f"{w.shape[1]}x{w.shape[2]} stride {o.strideH}x{o.strideW} {PADDING_NAMES[o.padding]}"
            f"{f' dilation {o.dilationHFactor}x{o.dilationWFactor}' if dilated else ''}, {qz.CLAMP_ACTIVATIONS[act]}"
        )
        return self.step(op, "conv", (x.index,), y, params, w.data, bias, mult, shift, summary)

    def depthwise_conv(self, op: Op) -> Step:
        o = op.options
        x = self.activation(op, op.inputs[0], "input", rank=4)
        y = self.activation(op, op.outputs[0], "output", rank=4)
        out_c, in_c = y.shape[3], x.shape[3]
        w = self.weights(op, op.inputs[1], rank=4, channels=out_c, axis=3)
        if w.shape[0] != 1 or w.shape[3] != out_c or out_c % in_c or x.shape[0] != y.shape[0]:
            self.fail(op, f"weights {list(w.shape)} do not fit input {list(x.shape)} and output {list(y.shape)}")
        multiplier = out_c // in_c
        if o.depthMultiplier not in (0, multiplier):
            self.fail(op, f"its depth multiplier {o.depthMultiplier} does not match {in_c} -> {out_c} channels")
        bias = self.bias(op, op.inputs[2] if len(op.inputs) > 2 else -1, out_c)
        act = self.fused(op, o)
        pad_h = self.window(op, o.padding, x.shape[1], w.shape[1], o.strideH, o.dilationHFactor, y.shape[1], "height")
        pad_w = self.window(op, o.padding, x.shape[2], w.shape[2], o.strideW, o.dilationWFactor, y.shape[2], "width")
        assert x.quant and y.quant and w.quant and w.data is not None
        mult, shift = qz.per_channel_multipliers(x.quant.scale[0], list(w.quant.scale), y.quant.scale[0], out_c)
        self.check_multipliers(op, shift)
        self.check_accumulators(op, w.data.reshape(-1, out_c).T, bias, x.quant.zero_point[0])
        lo, hi = qz.activation_range(act, y.quant.scale[0], y.quant.zero_point[0])
        params = {
            "input_offset": -x.quant.zero_point[0],
            "output_offset": y.quant.zero_point[0],
            "stride": (o.strideH, o.strideW),
            "padding": (pad_h, pad_w),
            "dilation": (o.dilationHFactor, o.dilationWFactor),
            "depth_multiplier": multiplier,
            "activation": (lo, hi),
            "input_dims": x.shape,
            "filter_dims": w.shape,
            "output_dims": y.shape,
        }
        summary = (
            f"{w.shape[1]}x{w.shape[2]} stride {o.strideH}x{o.strideW} {PADDING_NAMES[o.padding]}"
            f"{f', depth multiplier {multiplier}' if multiplier != 1 else ''}, {qz.CLAMP_ACTIVATIONS[act]}"
        )
        return self.step(op, "depthwise_conv", (x.index,), y, params, w.data, bias, mult, shift, summary)

    def fully_connected(self, op: Op) -> Step:
        o = op.options
        x = self.activation(op, op.inputs[0], "input")
        y = self.activation(op, op.outputs[0], "output")
        if o is not None and int(getattr(o, "weightsFormat", 0) or 0) != 0:
            self.fail(op, "its weights use a shuffled format", "convert with the default weights format")
        filt = self.graph.tensor(op.inputs[1]) if len(op.inputs) > 1 and op.inputs[1] >= 0 else None
        out_c = filt.shape[0] if filt is not None and len(filt.shape) == 2 else -1
        w = self.weights(op, op.inputs[1] if len(op.inputs) > 1 else -1, rank=2, channels=out_c, axis=0)
        depth = w.shape[1]
        if not y.shape or y.shape[-1] != out_c or y.elements % out_c:
            self.fail(op, f"its output {list(y.shape)} does not end in the {out_c} units of its weights")
        batches = y.elements // out_c
        if x.elements != batches * depth:
            self.fail(op, f"its input {list(x.shape)} does not hold {batches} rows of {depth}")
        bias = self.bias(op, op.inputs[2] if len(op.inputs) > 2 else -1, out_c)
        act = self.fused(op, o)
        assert x.quant and y.quant and w.quant and w.data is not None
        per_channel = len(w.quant.scale) > 1
        if per_channel:
            mult, shift = qz.per_channel_multipliers(x.quant.scale[0], list(w.quant.scale), y.quant.scale[0], out_c)
        else:
            m, s = qz.per_tensor_fc_multiplier(x.quant.scale[0], w.quant.scale[0], y.quant.scale[0])
            mult, shift = [m], [s]
        self.check_multipliers(op, shift)
        self.check_accumulators(op, w.data, bias, x.quant.zero_point[0])
        lo, hi = qz.activation_range(act, y.quant.scale[0], y.quant.zero_point[0])
        params = {
            "input_offset": -x.quant.zero_point[0],
            "output_offset": y.quant.zero_point[0],
            "per_channel": int(per_channel),
            "activation": (lo, hi),
            "batches": batches,
            "accum_depth": depth,
            "output_depth": out_c,
        }
        summary = f"{depth} -> {out_c}{' per-channel' if per_channel else ''}, {qz.CLAMP_ACTIVATIONS[act]}"
        return self.step(op, "fully_connected", (x.index,), y, params, w.data, bias, mult, shift, summary)

    def pool(self, op: Op, kind: str) -> Step:
        o = op.options
        x = self.activation(op, op.inputs[0], "input", rank=4)
        y = self.activation(op, op.outputs[0], "output", rank=4)
        if x.shape[0] != y.shape[0] or x.shape[3] != y.shape[3]:
            self.fail(op, f"input {list(x.shape)} and output {list(y.shape)} differ in batch or channels")
        assert x.quant and y.quant
        # TFLM's PoolingPrepare: the same quantization in and out (scale difference taken in float32).
        if float(abs(np.float32(x.quant.scale[0]) - np.float32(y.quant.scale[0]))) > 1e-6 or (
            x.quant.zero_point[0] != y.quant.zero_point[0]
        ):
            self.fail(op, "its input and output are quantized differently; TFLM requires them equal")
        act = self.fused(op, o)
        pad_h = self.window(op, o.padding, x.shape[1], o.filterHeight, o.strideH, 1, y.shape[1], "height")
        pad_w = self.window(op, o.padding, x.shape[2], o.filterWidth, o.strideW, 1, y.shape[2], "width")
        lo, hi = qz.activation_range(act, y.quant.scale[0], y.quant.zero_point[0])
        params = {
            "stride": (o.strideH, o.strideW),
            "padding": (pad_h, pad_w),
            "filter": (o.filterHeight, o.filterWidth),
            "activation": (lo, hi),
            "input_dims": x.shape,
            "output_dims": y.shape,
        }
        summary = (
            f"{o.filterHeight}x{o.filterWidth} stride {o.strideH}x{o.strideW} {PADDING_NAMES[o.padding]}, "
            f"{qz.CLAMP_ACTIVATIONS[act]}"
        )
        return Step(op.index, op.name, kind, (x.index,), y.index, params, (), summary)

    def mean(self, op: Op) -> Step:
        x = self.activation(op, op.inputs[0], "input")
        y = self.activation(op, op.outputs[0], "output")
        if not 1 <= len(x.shape) <= 4:
            self.fail(op, f"its input {x.describe()} has rank {len(x.shape)}; the kernel takes rank 1 to 4")
        axis_tensor = self.graph.tensor(op.inputs[1]) if len(op.inputs) > 1 and op.inputs[1] >= 0 else None
        if axis_tensor is None or axis_tensor.dtype != "INT32" or axis_tensor.data is None:
            self.fail(op, "its axes are not a constant int32 tensor")
        rank = len(x.shape)
        axes = sorted({int(a) + rank if int(a) < 0 else int(a) for a in axis_tensor.data.reshape(-1)})
        if any(not 0 <= a < rank for a in axes):
            self.fail(op, f"its axes {axis_tensor.data.tolist()} are out of range for rank {rank}")
        kept = [d for i, d in enumerate(x.shape) if i not in axes]
        if y.elements != int(np.prod(kept, dtype=np.int64)):
            self.fail(op, f"its output {list(y.shape)} does not match input {list(x.shape)} reduced over {axes}")
        count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64)) if axes else 1
        if count > 2**23:  # int8 sums in int32
            self.fail(op, f"it averages {count} values; the kernel sums at most 2^23")
        assert x.quant and y.quant
        mult, shift = qz.mean_multiplier(x.quant.scale[0], y.quant.scale[0], count)
        self.check_multipliers(op, [shift])
        pad = 4 - rank
        params = {
            "input_zero_point": x.quant.zero_point[0],
            "output_zero_point": y.quant.zero_point[0],
            "multiplier": mult,
            "shift": shift,
            "count": count,
            "reduce": tuple([0] * pad + [int(i in axes) for i in range(rank)]),
            "input_dims": (1,) * pad + x.shape,
        }
        return Step(op.index, op.name, "mean", (x.index,), y.index, params, (), f"over axes {axes}")

    def reshape(self, op: Op) -> Step:
        x = self.activation(op, op.inputs[0], "input")
        y = self.activation(op, op.outputs[0], "output")
        if len(op.inputs) > 1 and op.inputs[1] >= 0 and not self.graph.tensor(op.inputs[1]).is_constant:
            self.fail(op, "its new shape is computed at run time", STATIC_BATCH_HINT, DynamicShapeError)
        if x.elements != y.elements:
            self.fail(op, f"it reshapes {list(x.shape)} ({x.elements} values) to {list(y.shape)}")
        if x.quant != y.quant:
            self.fail(op, "its input and output are quantized differently; a RESHAPE cannot requantize")
        return Step(op.index, op.name, "reshape", (x.index,), y.index, {}, (), "in place (shares the input's memory)")

    def softmax(self, op: Op) -> Step:
        x = self.activation(op, op.inputs[0], "input")
        y = self.activation(op, op.outputs[0], "output")
        if x.shape != y.shape or not x.shape:
            self.fail(op, f"its input {list(x.shape)} and output {list(y.shape)} differ")
        assert x.quant and y.quant
        if y.quant.zero_point[0] != -128 or y.quant.scale[0] != qz.f32(1 / 256):
            self.fail(op, "its output is not quantized with scale 1/256 and zero point -128, as TFLM requires")
        depth = x.shape[-1]
        if depth > 4096:  # sums of exp() in Q12.19 overflow beyond 4096 classes
            self.fail(op, f"it spans {depth} values; the kernel sums at most 4096")
        beta = float(np.float32(getattr(op.options, "beta", 1.0)))
        try:
            p = qz.softmax_params(beta, x.quant.scale[0])
        except ValueError as e:
            self.fail(op, f"{e}; TFLM refuses it too", "train the model further: its logits are nearly constant")
        params = {
            "input_multiplier": p.input_multiplier,
            "input_left_shift": p.input_left_shift,
            "diff_min": p.diff_min,
            "rows": x.elements // depth,
            "depth": depth,
        }
        return Step(op.index, op.name, "softmax", (x.index,), y.index, params, (), f"beta {beta:g} over {depth}")

    def add_sub_params(self, op: Op, a: Tensor, b: Tensor, y: Tensor) -> tuple[dict[str, Any], str]:
        """ADD's and SUB's shared parameters (TFLM's CalculateOpDataAdd and CalculateOpDataSub are the same) and
        the fused activation's name."""
        act = self.fused(op, op.options)
        assert a.quant and b.quant and y.quant
        p = qz.add_params(
            (a.quant.scale[0], a.quant.zero_point[0]),
            (b.quant.scale[0], b.quant.zero_point[0]),
            (y.quant.scale[0], y.quant.zero_point[0]),
        )
        if not all(s <= 0 for s in (p.input1_shift, p.input2_shift, p.output_shift)):
            self.fail(op, "its output scale is too small for its inputs' scales; TFLM refuses it too")
        lo, hi = qz.activation_range(act, y.quant.scale[0], y.quant.zero_point[0])
        return {**vars(p), "activation": (lo, hi)}, qz.CLAMP_ACTIVATIONS[act]

    def add(self, op: Op) -> Step:
        a = self.activation(op, op.inputs[0], "first input")
        b = self.activation(op, op.inputs[1] if len(op.inputs) > 1 else -1, "second input")
        y = self.activation(op, op.outputs[0], "output")

        def squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
            return tuple(shape[next((i for i, d in enumerate(shape) if d != 1), len(shape)) :])

        if not squeezed(a.shape) == squeezed(b.shape) == squeezed(y.shape):
            self.fail(
                op,
                f"it broadcasts {list(a.shape)} + {list(b.shape)} -> {list(y.shape)}; only same-shape ADD is supported",
                "make both inputs of the Add layer the same shape",
            )
        params, act = self.add_sub_params(op, a, b, y)
        params["size"] = y.elements
        summary = f"{y.elements} values, {act}"
        return Step(op.index, op.name, "add", (a.index, b.index), y.index, params, (), summary)

    def sub(self, op: Op) -> Step:
        """SUB: the first input has the output's shape, the second that shape or 1 along any dimension (it is
        broadcast there: a per-coefficient mean taken from every frame, for instance). TFLM's int8 SUB is
        ADD's arithmetic with a difference in place of the sum, broadcast or not."""
        a = self.activation(op, op.inputs[0], "first input")
        b = self.activation(op, op.inputs[1] if len(op.inputs) > 1 else -1, "second input")
        y = self.activation(op, op.outputs[0], "output")
        if not max(len(a.shape), len(b.shape), len(y.shape)) <= 4:
            self.fail(op, f"it has a tensor of rank above 4 ({list(a.shape)} - {list(b.shape)})")
        out, first, second = ((1,) * (4 - len(t.shape)) + t.shape for t in (y, a, b))
        if first != out or any(d not in (1, n) for d, n in zip(second, out, strict=True)):
            self.fail(
                op,
                f"it broadcasts {list(a.shape)} - {list(b.shape)} -> {list(y.shape)}; only the second input "
                "may broadcast (size 1 where the output is larger)",
                "subtract the smaller tensor from the larger one",
            )
        params, act = self.add_sub_params(op, a, b, y)
        params.update(output_dims=out, input2_dims=second)
        summary = f"{list(y.shape)} - {list(b.shape)}, {act}"
        return Step(op.index, op.name, "sub", (a.index, b.index), y.index, params, (), summary)

    def step(
        self,
        op: Op,
        kind: str,
        inputs: tuple[int, ...],
        y: Tensor,
        params: dict[str, Any],
        weights: np.ndarray,
        bias: np.ndarray | None,
        mult: list[int],
        shift: list[int],
        summary: str,
    ) -> Step:
        arrays = [ConstArray("weights", "int8_t", weights.reshape(-1).astype(np.int8))]
        if bias is not None:
            arrays.append(ConstArray("bias", "int32_t", bias))
        arrays.append(ConstArray("multiplier", "int32_t", np.array(mult, dtype=np.int64)))
        arrays.append(ConstArray("shift", "int32_t", np.array(shift, dtype=np.int64)))
        return Step(op.index, op.name, kind, inputs, y.index, params, tuple(arrays), summary)

    def lower(self, op: Op) -> Step:
        handlers: dict[str, Callable[[Op], Step]] = {
            "CONV_2D": self.conv,
            "DEPTHWISE_CONV_2D": self.depthwise_conv,
            "FULLY_CONNECTED": self.fully_connected,
            "AVERAGE_POOL_2D": lambda op: self.pool(op, "avg_pool"),
            "MAX_POOL_2D": lambda op: self.pool(op, "max_pool"),
            "MEAN": self.mean,
            "RESHAPE": self.reshape,
            "SOFTMAX": self.softmax,
            "ADD": self.add,
            "SUB": self.sub,
        }
        if op.name not in handlers:
            hint = OP_HINTS.get(op.name, f"replace the layer that became {op.name} with {SUPPORTED_LAYERS}")
            self.fail(op, f"{op.name} is not supported by the C exporter (supported: {', '.join(SUPPORTED_OPS)})", hint)
        if len(op.outputs) != 1:
            self.fail(op, f"it has {len(op.outputs)} outputs; supported ops have one")
        return handlers[op.name](op)


def lower(graph: Graph) -> tuple[Step, ...]:
    """One Step per op, in execution order; raises an ExportError naming the first op it cannot compile."""
    if not graph.ops:
        raise ExportError("the model has no ops", path=graph.origin)
    lowering = _Lowering(graph)
    steps = tuple(lowering.lower(op) for op in graph.ops)
    produced = {graph.input}
    for step, op in zip(steps, graph.ops, strict=True):
        for t in step.inputs:
            if t not in produced:
                lowering.fail(op, f"it reads {graph.tensor(t).describe()} before any op writes it")
        produced.add(step.output)
    if graph.output not in produced:
        raise ExportError(f"no op writes the model's output {graph.tensor(graph.output).describe()}", path=graph.origin)
    return steps
