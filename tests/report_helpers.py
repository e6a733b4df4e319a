"""Helpers for the report tests: copies of a trained run, and the JSON files of the commands a tiny test run
does not go through (`host hil` needs the firmware built and QEMU; `host bench`; `host bench loeo` takes
half an hour), written in the schema those commands write."""

from __future__ import annotations

import hashlib
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path


def clone_run(src: Path, dst: Path, *, copy_data: bool = False) -> Path:
    """A copy of a run directory; its data folder is a symlink to the original unless `copy_data`."""
    dst.mkdir(parents=True)
    for item in src.iterdir():
        if item.name == "data" and not copy_data:
            (dst / "data").symlink_to(item.resolve())
        elif item.is_dir():
            shutil.copytree(item, dst / item.name)
        else:
            shutil.copy2(item, dst / item.name)
    return dst


def write_hil(run: Path, **overrides: object) -> dict:
    """hil.json as `host hil --data RUN/data --split test --json` writes it. The firmware is bit-exact with the
    host's int8 model (tests/hil prove it), so its confusion matrix here is the int8 one of metrics.json; the
    instruction counts are of the order the emulator measures for a DS-CNN S on portable kernels."""
    int8 = json.loads((run / "metrics.json").read_text())["splits"]["test"]["int8"]
    hil = {
        "accuracy": int8["accuracy"], "host_accuracy": int8["accuracy"], "agreement": 1.0, "bit_exact": 1.0,
        "n": int8["n"], "instructions_per_inference": 38_939_245.0, "instructions_per_hop": 72_272.7,
        "emulator_seconds": 3.2, "labels": int8["labels"], "confusion": int8["confusion"],
        "data": str(run / "data"), "split": "test",
        "model_sha256": hashlib.sha256((run / "model_int8.tflite").read_bytes()).hexdigest(),
    } | overrides  # fmt: skip
    (run / "hil.json").write_text(json.dumps(hil))
    return hil


BENCH = {
    "models": {
        "ds_cnn_s": {"macs": 2_656_000, "instructions": 9_800_000, "macs_per_instruction": 0.271, "kernels": "dsp",
                     "arena_bytes": 16000},
        "ds_cnn_s portable": {"macs": 2_656_000, "instructions": 38_939_245, "macs_per_instruction": 0.068,
                              "kernels": "portable"},
    },
    "frontend": {"instructions_per_hop": 72_273},
    "image": {"flash_bytes": 71_234, "ram_bytes": 41_980, "arena_bytes": 16_000},
    "load": {"clock_hz": 64_000_000, "percent_of_real_time": 82.0},
}  # fmt: skip


def write_bench(run: Path, bench: object = BENCH) -> None:
    (run / "bench.json").write_text(json.dumps(bench))


def write_loeo(run: Path, tag: str = "") -> None:
    """loeo.json (loeo-<tag>.json) as `host bench loeo` writes it: per held-out engine, distilled and hard-label
    students."""
    labels = json.loads((run / "config.json").read_text())["labels"]
    rows = []
    for engine, hard, distilled in (("espeak-ng", 0.42, 0.46), ("flite", 0.69, 0.73)):
        for distill, acc in ((True, distilled), (False, hard)):
            rows.append({
                "held_out": engine, "distill": distill, "test_clips": 240, "float_accuracy": acc + 0.002,
                "int8_accuracy": acc, "teacher_accuracy": 0.8 if distill else None,
                "per_class": dict.fromkeys(labels, acc),
            })  # fmt: skip
    (run / (f"loeo-{tag}.json" if tag else "loeo.json")).write_text(json.dumps(rows))


class Links(HTMLParser):
    """Every src and href of a page, and the tags they are on."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, v in attrs:
            if name in ("src", "href", "srcset", "data", "poster", "action"):
                self.refs.append((tag, name, v or ""))


def refs_of(html: str) -> list[tuple[str, str, str]]:
    parser = Links()
    parser.feed(html)
    return parser.refs
