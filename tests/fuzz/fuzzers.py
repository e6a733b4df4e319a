"""Build and run the libFuzzer harnesses of the firmware's C (tests/fuzz/fuzz_*.c) with AddressSanitizer
and UBSan: `python tests/fuzz/fuzzers.py [--seconds N] [--grow]` (`make fuzz`), and the time-bounded CI
runs in tests/test_fuzz.py. Each harness starts from its corpus in tests/fuzz/corpus/<name>/; `--grow` adds
the new inputs the run finds there (merged down to those that add coverage), otherwise they go to a
temporary folder."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
KWS = ROOT / "firmware" / "lib" / "kws"
GENERATED = ROOT / "firmware" / "generated"
FLAGS = ("-std=c11", "-O1", "-g", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
         "-Wall", "-Wextra", "-Werror", "-DKWS_KERNELS_DSP=1")  # fmt: skip
KERNELS = ("conv_s8.c", "depthwise_conv_s8.c", "fully_connected_s8.c", "avg_pool_s8.c", "max_pool_s8.c",
           "avg_pool_dsp_s8.c")  # fmt: skip


@dataclass(frozen=True)
class Harness:
    name: str
    sources: tuple[Path, ...]
    max_len: int  # bytes: long enough for a whole model window of audio where the harness needs one


HARNESSES = (
    Harness("frontend", (KWS / "kws_frontend.c", GENERATED / "kws_frontend_tables.c"), 40_000),
    Harness("detector", (KWS / "kws_detector.c", GENERATED / "kws_app.c"), 4_096),
    Harness("kernels", tuple(KWS / k for k in KERNELS), 1_024),
)


@dataclass(frozen=True)
class FuzzRun:
    name: str
    executions: int
    seconds: float
    corpus: int  # inputs in the corpus afterwards
    crashed: bool
    log: str


def clang() -> str:
    path = shutil.which("clang")
    if path is None:
        raise RuntimeError("clang is not installed: run `make setup` (Debian clang, libclang-rt-14-dev)")
    return path


def build(harness: Harness, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    binary = out_dir / f"fuzz_{harness.name}"
    command = [clang(), *FLAGS, f"-I{KWS}", f"-I{GENERATED}", str(HERE / f"fuzz_{harness.name}.c"),
               *map(str, harness.sources), "-lm", "-o", str(binary)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"building fuzz_{harness.name} failed:\n{result.stderr[-4000:]}")
    return binary


def run(harness: Harness, binary: Path, seconds: int, grow: bool, work: Path) -> FuzzRun:
    seeds = HERE / "corpus" / harness.name
    seeds.mkdir(parents=True, exist_ok=True)
    found = work / f"new_{harness.name}"
    found.mkdir(parents=True, exist_ok=True)
    command = [str(binary), str(found), str(seeds), f"-max_total_time={seconds}", f"-max_len={harness.max_len}",
               "-seed=42", "-print_final_stats=1", f"-artifact_prefix={work}/"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 300)
    log = result.stderr
    executions = int(m.group(1)) if (m := re.search(r"stat::number_of_executed_units:\s*(\d+)", log)) else 0
    elapsed = float(m.group(1)) if (m := re.search(r"Done (\d+) runs in (\d+) second", log)) else seconds
    if grow and result.returncode == 0:
        merge = [str(binary), "-merge=1", f"-max_len={harness.max_len}", str(seeds), str(found)]
        subprocess.run(merge, capture_output=True, text=True, timeout=600, check=True)
    corpus = sum(1 for _ in seeds.iterdir())
    return FuzzRun(harness.name, executions, elapsed, corpus, result.returncode != 0, log)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=600, help="per harness")
    parser.add_argument("--grow", action="store_true", help="merge new inputs into tests/fuzz/corpus/")
    parser.add_argument("--only", help="one harness by name")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="nanokws-fuzz-") as tmp:
        for harness in HARNESSES:
            if args.only and harness.name != args.only:
                continue
            binary = build(harness, ROOT / "build" / "fuzz")
            r = run(harness, binary, args.seconds, args.grow, Path(tmp))
            print(f"{r.name}: {r.executions} executions in {args.seconds} s, corpus {r.corpus}, "
                  f"{'CRASH' if r.crashed else 'no crash'}")  # fmt: skip
            if r.crashed:
                print(r.log[-6000:], file=sys.stderr)
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
