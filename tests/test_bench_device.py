"""`host bench --quick` runs the real bench image in the emulator and writes sane JSON (not timed: the
figures are the benchmark's, these checks only that they are measurements of the right things)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import host


def test_quick_bench_writes_sane_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    r = host("bench", "--quick", "--json", str(out))
    assert r.returncode == 0, r.stderr
    result = json.loads(out.read_text())
    model = result["models"]["default"]
    dsp, portable = model["kernels"]["dsp"], model["kernels"]["portable"]
    assert model["macs"] > 1_000_000
    assert model["instructions"] == dsp["instructions"]
    assert 0 < dsp["instructions"] < portable["instructions"]
    assert abs(model["macs_per_instruction"] - model["macs"] / dsp["instructions"]) < 1e-3
    # Every op is traced, per layer, in both sets; the layers add up to the whole (the trace hooks aside).
    assert [layer["op"] for layer in dsp["layers"]] == [layer["op"] for layer in portable["layers"]]
    assert sum(layer["macs"] for layer in dsp["layers"]) == model["macs"]
    assert abs(sum(layer["instructions"] for layer in dsp["layers"]) - dsp["instructions"]) < 2_000
    assert 1_000 < result["frontend"]["instructions_per_hop"] < 1_000_000
    image = result["image"]
    assert 0 < image["flash"]["weights"] < image["flash_bytes"] <= 1024 * 1024
    assert image["ram"]["arena"] > 0 and image["ram"]["stack"] > 0
    assert sum(image["ram"].values()) == image["ram_bytes"] <= 256 * 1024
    load = result["load"]
    # The model's share scales with how often it runs: the firmware's stride against every 100 ms.
    every = load["firmware_every_ms"]
    assert abs(load["at_firmware_stride"]["model"] - load["at_100_ms"]["model"] * 100 / every) < 0.05
    assert load["at_firmware_stride"]["model"] > 0
    assert abs(load["at_100_ms"]["total"] - sum(v for k, v in load["at_100_ms"].items() if k != "total")) < 0.05
