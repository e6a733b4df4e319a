"""`host hil`: the emulated firmware against the host's int8 pipeline, on clips and on streams."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nanokws.hil.clips import clip_layout, clip_outputs, clips_stream
from nanokws.hil.console import Console, parse_console
from nanokws.hil.emulator import Emulator
from nanokws.metrics import score
from nanokws.native import native_frontend
from nanokws.progress import Reporter
from nanokws.stream import run_stream
from nanokws.tflite.interpreters import TflmInterpreter
from nanokws.tflite.metadata import ModelInfo, quantize_input

CLIPS_PER_RUN = 64  # one emulator run per chunk; chunks run in parallel


@dataclass(frozen=True)
class FirmwareClips:
    outputs: np.ndarray  # [clips, labels] int8, the firmware's model result for each clip
    instructions_per_inference: float
    instructions_per_hop: float
    emulator_seconds: float  # summed over the runs


def host_outputs(clips: np.ndarray, model: bytes, info: ModelInfo) -> np.ndarray:
    """The Python int8 pipeline: the trainer's features (the C front end), quantized, through TFLM."""
    return TflmInterpreter(model).run(quantize_input(native_frontend(info.frontend).features(clips), info))


def _instructions(consoles: list[Console]) -> tuple[float, float]:
    hops = sum(c.summary["hops"] for c in consoles)
    inferences = sum(c.summary["inferences"] for c in consoles)
    frontend = sum(c.summary["frontend_cycles"] for c in consoles)
    model = sum(c.summary["model_cycles"] for c in consoles)
    return model / max(inferences, 1), frontend / max(hops, 1)


def classify_on_firmware(
    emulator: Emulator, elf: Path, clips: np.ndarray, info: ModelInfo, *, jobs: int = 2, reporter: Reporter
) -> FirmwareClips:
    layout = clip_layout(info)
    chunks = [clips[i : i + CLIPS_PER_RUN] for i in range(0, len(clips), CLIPS_PER_RUN)]
    task = reporter.task(f"classifying on the emulated firmware ({emulator.name})", len(clips))

    def one(chunk: np.ndarray) -> tuple[np.ndarray, Console, float]:
        run = emulator.run(elf, clips_stream(chunk, layout), scores=True)
        console = parse_console(run.console)
        outputs = clip_outputs(console.score_times_ms, console.outputs, len(chunk), layout)
        task.advance(len(chunk))
        return outputs, console, run.seconds

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(one, chunks))
    per_inference, per_hop = _instructions([c for _, c, _ in results])
    return FirmwareClips(
        outputs=np.concatenate([o for o, _, _ in results]),
        instructions_per_inference=per_inference,
        instructions_per_hop=per_hop,
        emulator_seconds=sum(s for _, _, s in results),
    )


@dataclass(frozen=True)
class HilReport:
    accuracy: float  # the firmware's, against the labels
    host_accuracy: float  # the Python int8 pipeline's
    agreement: float  # the firmware's class equals the host's
    bit_exact: float  # the firmware's int8 outputs equal the host's, all of them
    n: int
    instructions_per_inference: float
    instructions_per_hop: float
    emulator_seconds: float
    labels: tuple[str, ...] = ()
    confusion: tuple[tuple[int, ...], ...] = ()  # the firmware's [true, predicted] counts (`host report`)

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return d | {"labels": list(self.labels), "confusion": [list(row) for row in self.confusion]}


def compare_on_clips(
    emulator: Emulator, elf: Path, clips: np.ndarray, labels: np.ndarray, model: bytes, info: ModelInfo,
    *, reporter: Reporter,
) -> HilReport:  # fmt: skip
    firmware = classify_on_firmware(emulator, elf, clips, info, reporter=reporter)
    host = host_outputs(clips, model, info)
    fw_class, host_class = firmware.outputs.argmax(axis=1), host.argmax(axis=1)
    return HilReport(
        accuracy=float(np.mean(fw_class == labels)),
        host_accuracy=float(np.mean(host_class == labels)),
        agreement=float(np.mean(fw_class == host_class)),
        bit_exact=float(np.mean(np.all(firmware.outputs == host, axis=1))),
        n=len(labels),
        instructions_per_inference=firmware.instructions_per_inference,
        instructions_per_hop=firmware.instructions_per_hop,
        emulator_seconds=firmware.emulator_seconds,
        labels=info.labels,
        confusion=tuple(tuple(int(v) for v in row) for row in score(labels, fw_class, info.labels).confusion),
    )


@dataclass(frozen=True)
class StreamComparison:
    firmware: tuple[str, ...]  # detection lines
    twin: tuple[str, ...]
    console: Console


def compare_on_stream(
    emulator: Emulator, elf: Path, audio: np.ndarray, model: bytes, info: ModelInfo
) -> StreamComparison:
    run = emulator.run(elf, audio)
    console = parse_console(run.console)
    twin = run_stream(audio, model, info)
    return StreamComparison(tuple(console.detections), tuple(d.line() for d in twin.detections), console)
