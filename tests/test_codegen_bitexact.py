"""Every model of the DS-CNN family, one on the cepstral envelope, and the MLPerf Tiny reference model,
compiled to C by `host export` and built with gcc, equals TFLM bit for bit: on 1,000 random int8 inputs at
the output, on every op's output for a sample of inputs, and under AddressSanitizer and UBSan. The generated
code cross-compiles for the Cortex-M4 with one static arena and no other data memory, and regenerating gives
identical bytes."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from conftest import MLPERF_MODEL, mfcc_like, randomised
from nanokws.audio import read_wav_int16
from nanokws.codegen import compile_model, export_model
from nanokws.codegen.export import ExportResult
from nanokws.codegen.host_build import (
    KERNEL_DIR,
    HostBuildError,
    ModelLibrary,
    build_model_executable,
    build_model_library,
    compile_c,
    kernel_sources,
    run_executable,
)
from nanokws.codegen.verify import compare_ops
from nanokws.config import RunConfig
from nanokws.native import native_frontend
from nanokws.student.models import FAMILY, build
from nanokws.tflite.convert import to_int8_tflite
from nanokws.tflite.interpreters import TflmInterpreter
from nanokws.tflite.metadata import model_info, quantize_input

ROOT = Path(__file__).resolve().parents[1]
ARM_GCC = "arm-none-eabi-gcc"
ARM_FLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")
DSP_ASM = sorted(KERNEL_DIR.glob("*.S"))  # the DSP kernels' assembly
STRICT = ("-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-Wpedantic", "-Wconversion", "-Wshadow")

N_INPUTS = 1000
# The two big models take 25 and 9 ms an inference in TFLM (and about as long in C): the fast tier checks
# them on fewer inputs, the slow tier (still run by `make test`) on all 1,000.
FAST_INPUTS = {"ds_cnn_l": 100, "ds_cnn_m": 200}
TRACED_INPUTS = 25
SANITIZED_INPUTS = 10


def random_inputs(n: int, shape: tuple[int, ...], seed: int = 1234) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, (n, *shape[1:])).astype(np.int8)


@dataclass
class Exported:
    name: str
    model: bytes
    result: ExportResult
    out_dir: Path
    library: ModelLibrary


def export_and_build(name: str, model: bytes, work: Path) -> Exported:
    out = work / "generated"
    result = export_model(model, out, f"{name}.tflite")
    return Exported(name, model, result, out, build_model_library(out, work / "build"))


@pytest.fixture(scope="module", params=[*sorted(FAMILY), "ds_cnn_s_env20", "mlperf_kws_ref_model"])
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Exported:
    name = request.param
    if name == "mlperf_kws_ref_model":
        model = MLPERF_MODEL.read_bytes()
    else:
        model = to_int8_tflite(randomised(build(name, 49, 10, 12)), mfcc_like(64), {"run": RunConfig().to_dict()})
    return export_and_build(name, model, tmp_path_factory.mktemp(name))


def assert_bit_exact(exported: Exported, n: int, skip: int = 0) -> None:
    """The first `n` random inputs (always the same ones), less the first `skip` of them."""
    x = random_inputs(n, exported.result.input_shape)[skip:]
    ours = exported.library.run(x)
    theirs = TflmInterpreter(exported.model).run(x)
    differing = int(np.count_nonzero((ours != theirs).any(axis=1)))
    assert differing == 0, f"{exported.name}: {differing} of {n} outputs differ from TFLM"


def test_generated_c_equals_tflm_on_random_inputs(exported: Exported) -> None:
    assert_bit_exact(exported, FAST_INPUTS.get(exported.name, N_INPUTS))


def test_generated_c_equals_tflm_on_every_synthetic_clip(exported: Exported, small_synth) -> None:
    """Real inputs: the trainer's int8 features of every clip of the synthetic data, all splits."""
    root, result = small_synth
    audio = np.stack([read_wav_int16(root / e.path)[0] for e in result.entries])
    info = model_info(exported.model)
    x = quantize_input(native_frontend(info.frontend).mfcc(audio), info)
    np.testing.assert_array_equal(exported.library.run(x), TflmInterpreter(exported.model).run(x))


@pytest.mark.slow
@pytest.mark.parametrize("exported", sorted(FAST_INPUTS), indirect=True)
def test_big_models_equal_tflm_on_1000_inputs(exported: Exported) -> None:
    """The rest of the 1,000 inputs, which the fast tier leaves out for the big models (the same export)."""
    assert_bit_exact(exported, N_INPUTS, skip=FAST_INPUTS[exported.name])


def test_every_op_output_equals_tflm(exported: Exported, tmp_path: Path) -> None:
    traced = build_model_library(exported.out_dir, tmp_path, trace=True)
    compiled = compile_model(exported.model)
    x = random_inputs(TRACED_INPUTS, exported.result.input_shape, seed=7)
    diffs = compare_ops(compiled, exported.model, traced, x)
    assert [d for d in diffs if d.differing] == []
    assert sum(d.values for d in diffs) > 0


def test_sanitized_build_runs_clean_and_agrees(exported: Exported, tmp_path: Path) -> None:
    executable = build_model_executable(exported.out_dir, tmp_path, sanitize=True)
    x = random_inputs(SANITIZED_INPUTS, exported.result.input_shape, seed=11)
    np.testing.assert_array_equal(
        run_executable(executable, x, exported.library.output_elements), exported.library.run(x)
    )


def test_regenerating_gives_identical_bytes(exported: Exported, tmp_path: Path) -> None:
    again = export_model(exported.model, tmp_path, f"{exported.name}.tflite")
    for first, second in zip(exported.result.files, again.files, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
    header = exported.result.files[1].read_text().splitlines()[:8]
    assert any(f"{exported.name}.tflite" in line for line in header)
    assert any(hashlib.sha256(exported.model).hexdigest() in line for line in header)


def test_arena_is_the_largest_pair_of_live_activations(exported: Exported) -> None:
    """On these chains the greedy plan is optimal: the arena is the largest input + output of any op."""
    compiled = compile_model(exported.model)
    g = compiled.graph
    bound = max(
        sum(-(-g.tensor(t).nbytes // 16) * 16 for t in (*s.inputs, s.output)) for s in compiled.steps if not s.is_alias
    )
    assert exported.result.arena_bytes == bound
    assert exported.library.arena_bytes == exported.result.arena_bytes


def test_cortex_m4_build_has_one_static_arena_and_no_other_data(exported: Exported, tmp_path: Path) -> None:
    """Cross-compiled with warnings as errors: the model's only RAM is the arena and the DSP kernels'
    scratch (.bss), weights and parameters are read-only, and nothing but the kernels (and libc's memset
    and memcpy) is called."""
    objects = []
    sources = [exported.out_dir / "kws_model.c", exported.out_dir / "model_data.c", *kernel_sources(), *DSP_ASM]
    for source in sources:
        obj = tmp_path / f"{source.stem}.o"
        includes = (f"-I{KERNEL_DIR}", f"-I{exported.out_dir}")
        flags = ARM_FLAGS if source.suffix == ".S" else (*ARM_FLAGS, *STRICT)
        r = subprocess.run(
            [ARM_GCC, *flags, *includes, "-c", str(source), "-o", str(obj)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode == 0, r.stderr
        objects.append(obj)
    sizes = subprocess.run(["arm-none-eabi-size", *map(str, objects)], capture_output=True, text=True, check=True)
    rows = {Path(line.split()[-1]).stem: [int(v) for v in line.split()[:3]] for line in sizes.stdout.splitlines()[1:]}
    text, data, _ = rows["kws_model"]
    assert data == 0
    symbols = subprocess.run(["arm-none-eabi-nm", "-S", str(tmp_path / "kws_model.o")], capture_output=True, text=True)
    ram = {
        p[3]: int(p[1], 16)
        for p in (line.split() for line in symbols.stdout.splitlines())
        if len(p) == 4 and p[2] in "bBdD"
    }
    expected = {"arena": exported.result.arena_bytes}
    if exported.result.dsp_scratch_bytes:
        expected["scratch"] = exported.result.dsp_scratch_bytes
    assert ram == expected
    assert text >= exported.result.weight_bytes + exported.result.parameter_bytes
    assert rows["model_data"][0] >= exported.result.model_bytes
    assert all(r[1] == r[2] == 0 for name, r in rows.items() if name not in ("kws_model", "model_data"))
    nm = subprocess.run(["arm-none-eabi-nm", *map(str, objects)], capture_output=True, text=True).stdout.splitlines()
    undefined = {line.split()[-1] for line in nm if line.strip().startswith("U ")}
    defined = {line.split()[-1] for line in nm if len(line.split()) == 3 and line.split()[1] in "TtDdBbRr"}
    assert undefined - defined <= {"memset", "memcpy"}


def test_sanitizers_really_catch_errors(tmp_path: Path) -> None:
    """The sanitized build fails loudly on an out-of-bounds write and on signed overflow."""
    for name, body in {
        "overflow": "static int8_t a[4]; volatile int i = 4; a[i] = 1; return a[0];",
        "signed": "volatile int32_t x = INT32_MAX; x = x + 1; return x > 0;",
    }.items():
        source = tmp_path / f"{name}.c"
        source.write_text(f"#include <stdint.h>\nint main(void)\n{{\n    {body}\n}}\n")
        exe = compile_c([source], tmp_path / name, sanitize=True)
        with pytest.raises(HostBuildError):
            run_executable(exe, np.zeros((1, 1), dtype=np.int8), 1)


def test_dsp_kernels_equal_tflm_on_random_inputs(exported: Exported, tmp_path: Path) -> None:
    """The Cortex-M4 kernels' C (kws_dsp.h models SMLAD, SXTB16, SMMLAR, SSAT) on the host: what the
    emulator tests check on the real instructions, here on every model of the family."""
    assert compile_model(exported.model).dsp_layers, "no layer took the DSP kernels"
    dsp = build_model_library(exported.out_dir, tmp_path, dsp=True)
    x = random_inputs(FAST_INPUTS.get(exported.name, N_INPUTS), exported.result.input_shape, seed=5)
    np.testing.assert_array_equal(dsp.run(x), TflmInterpreter(exported.model).run(x))
