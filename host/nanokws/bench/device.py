"""On-device benchmark (`host bench`): instructions per inference and per layer of each model with both
kernel sets, front-end instructions per hop, and the `nano33ble` image's flash and RAM.

Everything is measured in the emulator (QEMU mps2-an386 under `-icount shift=0`, DESIGN.md §6), where
board_cycles() counts executed instructions (to 40 instructions: SysTick's resolution there). The image
is firmware/bench/bench_main.c, built with PlatformIO's `emu_bench` (Cortex-M4 DSP kernels) and
`emu_bench_portable` environments around the model exported into firmware/bench/model/. Instructions
are not cycles: loads, SMLAD pipelines and flash wait states make a real Cortex-M4 slower; the load
estimate at 64 MHz takes one instruction as one cycle and says so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nanokws import atomic
from nanokws.codegen.export import CompiledModel, render_all
from nanokws.codegen.host_build import ROOT
from nanokws.codegen.lowering import Step
from nanokws.errors import NanokwsError
from nanokws.hil.firmware import FirmwareBuildError, build_image
from nanokws.tflite.metadata import model_info

BENCH_DIR = ROOT / "firmware" / "bench"
MODEL_DIR = BENCH_DIR / "model"
KERNEL_ENVS = {"dsp": "emu_bench", "portable": "emu_bench_portable"}
QEMU_TIMEOUT_S = 300
CPU_HZ = 64_000_000  # the nRF52840's Cortex-M4F
AUDIO_SYMBOLS = ("queue", "capture")  # the board's PDM DMA buffers and queue (firmware/boards/nano33ble)
FRONTEND_SYMBOLS = ("frontend", "hop", "rows", "window", "re", "im", "power")


class BenchError(NanokwsError):
    """The benchmark image failed to build or run, or printed something unexpected."""


@dataclass(frozen=True)
class LayerCost:
    op: int
    name: str
    macs: int
    instructions: int


@dataclass(frozen=True)
class KernelRun:
    """One model, one kernel set, one run of the bench image."""

    instructions: int  # kws_model_invoke(), trace hooks included (a few instructions per op)
    layers: tuple[LayerCost, ...]
    frontend_rows: int
    frontend_instructions: int
    prepare_instructions: int  # normalize + quantize one window
    output: tuple[int, ...]


@dataclass(frozen=True)
class ModelBench:
    name: str
    macs: int
    runs: Mapping[str, KernelRun] = field(default_factory=dict)  # kernel set -> run

    def to_dict(self) -> dict[str, Any]:
        kernels = {
            k: {
                "instructions": r.instructions,
                "macs_per_instruction": round(self.macs / r.instructions, 4),
                "layers": [vars(layer) for layer in r.layers],
            }
            for k, r in self.runs.items()
        }
        main = self.runs.get("dsp") or next(iter(self.runs.values()))
        return {
            "macs": self.macs,
            "instructions": main.instructions,
            "macs_per_instruction": round(self.macs / main.instructions, 4),
            "kernels": kernels,
        }


def step_macs(step: Step) -> int:
    """Multiply-accumulates of one kernel call (0 for ops without weights)."""
    p = step.params
    if step.kind == "conv":
        _, out_h, out_w, out_c = p["output_dims"]
        _, f_h, f_w, f_c = p["filter_dims"]
        return int(p["output_dims"][0]) * out_h * out_w * out_c * f_h * f_w * f_c
    if step.kind == "depthwise_conv":
        n, out_h, out_w, out_c = p["output_dims"]
        return n * out_h * out_w * out_c * p["filter_dims"][1] * p["filter_dims"][2]
    if step.kind == "fully_connected":
        return int(p["batches"]) * int(p["accum_depth"]) * int(p["output_depth"])
    return 0


LINE = re.compile(r"^(bench kernels|frontend|prepare|op|model|output)\b(.*)$")


def parse_bench_output(text: str, steps: Sequence[Step]) -> KernelRun:
    """The bench image's console (firmware/bench/bench_main.c) as a KernelRun."""
    by_index = {s.index: s for s in steps}
    layers: list[LayerCost] = []
    found: dict[str, list[int]] = {}
    for raw in text.splitlines():
        m = LINE.match(raw.strip())
        if not m:
            continue
        key, rest = m.group(1), m.group(2).split()
        if key == "bench kernels":
            continue
        values = [int(v) for v in rest]
        if key == "op":
            step = by_index.get(values[0])
            if step is None:
                raise BenchError(f"the bench image traced op {values[0]}, which the model does not have")
            layers.append(LayerCost(values[0], step.op, step_macs(step), values[1]))
        else:
            found[key] = values
    missing = [k for k in ("frontend", "prepare", "model", "output") if k not in found]
    if missing:
        raise BenchError(f"the bench image printed no {', '.join(missing)} line:\n{text[-2000:]}")
    return KernelRun(
        instructions=found["model"][0],
        layers=tuple(layers),
        frontend_rows=found["frontend"][0],
        frontend_instructions=found["frontend"][1],
        prepare_instructions=found["prepare"][0],
        output=tuple(found["output"]),
    )


def qemu_command(elf: Path) -> list[str]:
    qemu = shutil.which("qemu-system-arm")
    if qemu is None:
        raise BenchError("qemu-system-arm is not installed", hint="run `make setup`")
    return [
        qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-icount", "shift=0",
        "-semihosting-config", "enable=on,target=native,arg=firmware.elf", "-kernel", str(elf),
    ]  # fmt: skip


def export_for_bench(tflite: bytes, origin: str) -> CompiledModel:
    """Write the model's generated C into firmware/bench/model/ (replacing what was there)."""
    compiled, files = render_all(tflite, origin)
    if MODEL_DIR.exists():
        shutil.rmtree(MODEL_DIR)
    MODEL_DIR.mkdir(parents=True)
    for name, text in files.items():
        atomic.write_text(MODEL_DIR / name, text)
    return compiled


def run_kernels(compiled: CompiledModel, kernels: str, build_root: Path) -> KernelRun:
    """Build the bench image for `kernels` ("dsp" or "portable") and run it once."""
    env = KERNEL_ENVS[kernels]
    elf = build_image(env, build_root / kernels)
    result = subprocess.run(qemu_command(elf), capture_output=True, text=True, timeout=QEMU_TIMEOUT_S, check=False)
    if result.returncode != 0:
        raise BenchError(f"the bench image ({env}) exited with {result.returncode}:\n{result.stdout[-2000:]}")
    return parse_bench_output(result.stdout, compiled.steps)


def bench_model(
    name: str, tflite: bytes, build_root: Path, kernel_sets: Iterable[str] = ("dsp", "portable")
) -> ModelBench:
    compiled = export_for_bench(tflite, f"{name}.tflite")
    runs = {k: run_kernels(compiled, k, build_root / name) for k in kernel_sets}
    outputs = {r.output for r in runs.values()}
    if len(outputs) > 1:
        raise BenchError(f"{name}: the kernel sets disagree on the model's output: {runs}")
    return ModelBench(name, sum(step_macs(s) for s in compiled.steps), runs)


@dataclass(frozen=True)
class ImageSize:
    """The default `nano33ble` image: flash and RAM by what uses them (bytes)."""

    flash_bytes: int
    ram_bytes: int
    flash: Mapping[str, int]
    ram: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"flash_bytes": self.flash_bytes, "ram_bytes": self.ram_bytes, "flash": dict(self.flash),
                "ram": dict(self.ram)}  # fmt: skip


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BenchError(f"{name} is not installed", hint="run `make setup` (binutils-arm-none-eabi)")
    return path


def symbol_sizes(elf: Path) -> list[tuple[str, str, int]]:
    """(name, type letter, size) of every sized symbol."""
    text = subprocess.run([_tool("arm-none-eabi-nm"), "-S", "--size-sort", str(elf)], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4:
            out.append((parts[3], parts[2], int(parts[1], 16)))
    return out


def section_sizes(elf: Path) -> dict[str, int]:
    text = subprocess.run([_tool("arm-none-eabi-size"), "-A", str(elf)], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    sizes = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith("."):
            sizes[parts[0]] = int(parts[1])
    return sizes


def image_size(elf: Path) -> ImageSize:
    sections = section_sizes(elf)
    symbols = symbol_sizes(elf)
    # The model's constants: op<N>_<role> arrays (rodata, which the linker script puts in .text).
    weights = sum(size for name, kind, size in symbols if kind in "rRtT" and re.match(r"op\d+_", name))
    flash_total = sections.get(".isr_vector", 0) + sections.get(".text", 0) + sections.get(".data", 0)
    flash_total += sections.get(".ARM.exidx", 0)

    def ram_of(names: Iterable[str]) -> int:
        wanted = set(names)
        return sum(size for name, kind, size in symbols if kind in "bBdD" and name.split(".")[0] in wanted)

    arena = ram_of(("arena", "scratch"))
    audio = ram_of(AUDIO_SYMBOLS)
    frontend = ram_of(FRONTEND_SYMBOLS)
    stack = sections.get(".stack", 0)
    ram_total = stack + sections.get(".data", 0) + sections.get(".bss", 0)
    return ImageSize(
        flash_bytes=flash_total,
        ram_bytes=ram_total,
        flash={"weights": weights, "code_and_constants": flash_total - weights},
        ram={
            "arena": arena,
            "audio_buffers": audio,
            "frontend_buffers": frontend,
            "stack": stack,
            "other": ram_total - arena - audio - frontend - stack,
        },
    )


def load_estimate(model: KernelRun, hop_ms: int, every_ms: int) -> dict[str, float]:
    """CPU load at 64 MHz with one instruction taken as one cycle (an estimate, not a measurement)."""
    per_s = {
        "frontend": model.frontend_instructions / model.frontend_rows * 1000 / hop_ms,
        "prepare": model.prepare_instructions * 1000 / every_ms,
        "model": model.instructions * 1000 / every_ms,
    }
    load = {k: round(100 * v / CPU_HZ, 2) for k, v in per_s.items()}
    load["total"] = round(sum(load.values()), 2)
    return load


def build_default_image(build_root: Path) -> Path:
    try:
        return build_image("nano33ble", build_root / "nano33ble")
    except FirmwareBuildError as e:
        raise BenchError(str(e)) from e


ProgressFn = Callable[[str], None]


def family_tflite(name: str, cfg: Any, cache: Path, seed: int = 42) -> bytes:
    """An int8 model of the DS-CNN family member `name` with untrained weights (seed 42): instruction counts
    do not depend on the weights' values. Cached in `cache`, as converting takes seconds."""
    path = cache / f"{name}.tflite"
    if path.is_file():
        return path.read_bytes()
    import keras
    import numpy as np

    from nanokws.student.models import build, with_softmax
    from nanokws.tflite.convert import full_int8

    keras.utils.set_random_seed(seed)
    frames, coeffs = cfg.frontend.n_frames, cfg.frontend.n_mfcc
    logits = build(name, frames, coeffs, len(cfg.labels))
    rng = np.random.default_rng(seed)
    # Untrained logits are nearly constant, which a softmax cannot be quantized for: widen the classifier.
    layer = logits.get_layer("logits")
    layer.set_weights([rng.standard_normal(w.shape).astype(np.float32) * 4 for w in layer.get_weights()])
    keras.utils.clear_session()
    deploy = with_softmax(logits, batch_size=1, weights=logits.get_weights())
    samples = [rng.standard_normal((frames, coeffs, 1)).astype(np.float32) * 10 for _ in range(32)]
    data = full_int8(deploy, samples)
    atomic.write_bytes(path, data)
    return data


@dataclass(frozen=True)
class BenchReport:
    models: Mapping[str, ModelBench]
    frontend_instructions_per_hop: float
    prepare_instructions: int
    image: ImageSize
    stride_ms: int
    hop_ms: int
    host: Mapping[str, float] = field(default_factory=dict)

    def load(self, model: str, every_ms: int) -> dict[str, float]:
        return load_estimate(self.models[model].runs["dsp"], self.hop_ms, every_ms)

    def to_dict(self, default_model: str) -> dict[str, Any]:
        return {
            "models": {name: m.to_dict() for name, m in self.models.items()},
            "frontend": {
                "instructions_per_hop": round(self.frontend_instructions_per_hop, 1),
                "prepare_instructions_per_inference": self.prepare_instructions,
            },
            "image": self.image.to_dict(),
            "load": {
                "note": "estimated CPU load at 64 MHz in percent, one instruction taken as one cycle",
                "model": default_model,
                "firmware_every_ms": self.stride_ms,
                "at_firmware_stride": self.load(default_model, self.stride_ms),
                "at_100_ms": self.load(default_model, 100),
            },
            "host": dict(self.host),
            "method": "QEMU mps2-an386, -icount shift=0, SysTick: 40-instruction resolution; "
            "arm-none-eabi-gcc -O2 (platformio.ini)",
        }


def run_bench(models: Mapping[str, bytes], default_model: str, build_root: Path,
              progress: ProgressFn = lambda _: None) -> BenchReport:  # fmt: skip
    """Bench every model with both kernel sets, then the default image's size (the committed firmware)."""
    results = {}
    try:
        for name, tflite in models.items():
            progress(f"{name}: building and running the bench image (DSP and portable kernels)")
            results[name] = bench_model(name, tflite, build_root)
    finally:
        if MODEL_DIR.exists():
            shutil.rmtree(MODEL_DIR)
    main = results[default_model].runs["dsp"]
    progress("nano33ble: building the default image")
    image = image_size(build_default_image(build_root))
    # The default firmware's hop and inference period: the default model's run config, from which
    # `host export` generated its kws_app.h and front-end tables.
    info = model_info(models[default_model], default_model)
    hop_ms = info.frontend.hop_ms
    return BenchReport(
        models=results,
        frontend_instructions_per_hop=main.frontend_instructions / max(main.frontend_rows, 1),
        prepare_instructions=main.prepare_instructions,
        image=image,
        stride_ms=info.detector.stride_hops * hop_ms,
        hop_ms=hop_ms,
    )
