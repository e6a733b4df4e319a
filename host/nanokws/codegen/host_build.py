"""Compile generated model code and the kernels for the host with the system gcc, and run it.

Two builds: a shared library called through ctypes (fast: thousands of inputs per second), and an
executable that reads inputs from a file and writes outputs, which the tests build with AddressSanitizer
and UBSan (a sanitized shared library would need the sanitizer runtimes preloaded into Python).
Flags are the firmware's: C11, warnings as errors, no floating-point contraction.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nanokws.errors import NanokwsError, ToolMissingError

ROOT = Path(__file__).resolve().parents[3]
KERNEL_DIR = ROOT / "firmware" / "lib" / "kws"
KERNEL_SOURCES = (
    "conv_s8.c",
    "depthwise_conv_s8.c",
    "fully_connected_s8.c",
    "avg_pool_s8.c",
    "max_pool_s8.c",
    "mean_s8.c",
    "add_s8.c",
    "sub_s8.c",
    "softmax_s8.c",
    "conv_dsp_s8.c",
    "depthwise_conv_dsp_s8.c",
    "avg_pool_dsp_s8.c",
)
# The Cortex-M4 kernels (kws_dsp.h) on the host: the same C with its instructions' C models.
DSP_DEFINE = "KWS_KERNELS_DSP=1"
DRIVER = Path(__file__).with_name("host_driver.c")
CFLAGS = ("-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off")
SANITIZE_FLAGS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g")
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1:abort_on_error=0",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}
COMPILE_TIMEOUT_S = 600
RUN_TIMEOUT_S = 600


class HostBuildError(NanokwsError):
    """Generated C that does not compile or run on the host."""


def compiler() -> str:
    cc = os.environ.get("CC") or shutil.which("gcc")
    if not cc:
        raise ToolMissingError("gcc is not installed", hint="install it: apt-get install gcc")
    return cc


def kernel_sources() -> list[Path]:
    return [KERNEL_DIR / name for name in KERNEL_SOURCES]


def compile_c(
    sources: Sequence[Path],
    output: Path,
    *,
    include_dirs: Sequence[Path] = (),
    defines: Sequence[str] = (),
    shared: bool = False,
    sanitize: bool = False,
    extra_flags: Sequence[str] = (),
) -> Path:
    """Compile and link `sources` into `output` (an executable, or a shared library if `shared`)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [compiler(), *CFLAGS, *(SANITIZE_FLAGS if sanitize else ()), *extra_flags]
    if shared:
        command += ["-fPIC", "-shared"]
    command += [f"-I{d}" for d in include_dirs] + [f"-D{d}" for d in defines]
    command += [str(s) for s in sources] + ["-o", str(output)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
    if result.returncode != 0:
        raise HostBuildError(
            f"gcc failed ({result.returncode}):\n{result.stderr[-4000:]}",
            path=output,
            hint="the generated code or the kernels do not compile cleanly with -Wall -Wextra -Werror",
        )
    return output


@functools.cache
def _object_cache() -> Path:
    cache = Path(tempfile.mkdtemp(prefix="nanokws-kernels-"))
    atexit.register(shutil.rmtree, cache, ignore_errors=True)
    return cache


def kernel_objects(*, shared: bool = False, sanitize: bool = False, dsp: bool = False) -> list[Path]:
    """The kernels compiled once per process and set of flags (they are the same for every model)."""
    flags = [*CFLAGS, *(SANITIZE_FLAGS if sanitize else ()), *(("-fPIC",) if shared else ())]
    flags += [f"-D{DSP_DEFINE}"] if dsp else []
    key = hashlib.sha256(compiler().encode() + " ".join(flags).encode())
    for path in sorted(KERNEL_DIR.glob("*.h")) + kernel_sources():
        key.update(path.read_bytes())
    folder = _object_cache() / key.hexdigest()[:16]
    objects = [folder / f"{source.stem}.o" for source in kernel_sources()]
    if not all(o.is_file() for o in objects):
        for source, obj in zip(kernel_sources(), objects, strict=True):
            compile_c([source], obj, include_dirs=(KERNEL_DIR,), extra_flags=(*flags[len(CFLAGS) :], "-c"))
    return objects


def model_sources(model_dir: Path, *, shared: bool = False, sanitize: bool = False, dsp: bool = False) -> list[Path]:
    return [model_dir / "kws_model.c", DRIVER, *kernel_objects(shared=shared, sanitize=sanitize, dsp=dsp)]


class ModelLibrary:
    """A compiled model loaded through ctypes: `run` maps int8 inputs [N, ...] to int8 outputs [N, out]."""

    def __init__(self, path: Path, trace: bool = False) -> None:
        self.path = path
        self._lib = ctypes.CDLL(str(path))
        self._lib.kws_host_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32]
        self._lib.kws_host_run.restype = None
        for name in ("kws_host_input_elements", "kws_host_output_elements", "kws_host_arena_bytes"):
            getattr(self._lib, name).restype = ctypes.c_int32
        self.input_elements = int(self._lib.kws_host_input_elements())
        self.output_elements = int(self._lib.kws_host_output_elements())
        self.arena_bytes = int(self._lib.kws_host_arena_bytes())
        self.traced = trace
        if trace:
            self._lib.kws_host_trace_into.argtypes = [ctypes.c_void_p, ctypes.c_int32]
            self._lib.kws_host_trace_used.restype = ctypes.c_int32

    def run(self, inputs: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(np.asarray(inputs, dtype=np.int8).reshape(-1, self.input_elements))
        y = np.empty((x.shape[0], self.output_elements), dtype=np.int8)
        self._lib.kws_host_run(x.ctypes.data, y.ctypes.data, x.shape[0])
        return y

    def trace(self, single_input: np.ndarray, sizes: Sequence[int]) -> list[np.ndarray]:
        """Every op's output for one input (a KWS_MODEL_TRACE build); `sizes`: elements per op, in order."""
        if not self.traced:
            raise HostBuildError("this library was built without KWS_MODEL_TRACE", path=self.path)
        buffer = np.zeros(sum(sizes), dtype=np.int8)
        self._lib.kws_host_trace_into(buffer.ctypes.data, buffer.size)
        self.run(np.asarray(single_input).reshape(1, -1))
        self._lib.kws_host_trace_into(None, 0)
        return list(np.split(buffer, np.cumsum(sizes)[:-1]))


def build_model_library(model_dir: Path, build_dir: Path, *, trace: bool = False, dsp: bool = False) -> ModelLibrary:
    """Compile the exported model in `model_dir` with the kernels into a shared library and load it;
    `dsp`: with the Cortex-M4 kernels' C (kws_dsp.h) instead of the portable ones."""
    name = f"libkws_model{'_trace' if trace else ''}{'_dsp' if dsp else ''}.so"
    path = compile_c(
        model_sources(model_dir, shared=True, dsp=dsp),
        build_dir / name,
        include_dirs=(model_dir, KERNEL_DIR),
        defines=(*(("KWS_MODEL_TRACE",) if trace else ()), *((DSP_DEFINE,) if dsp else ())),
        shared=True,
    )
    return ModelLibrary(path, trace=trace)


def build_model_executable(model_dir: Path, build_dir: Path, *, sanitize: bool = True, dsp: bool = False) -> Path:
    """Compile the exported model into `kws_host <inputs> <outputs>`, with sanitizers by default."""
    name = f"kws_host{'_sanitized' if sanitize else ''}{'_dsp' if dsp else ''}"
    return compile_c(
        model_sources(model_dir, sanitize=sanitize, dsp=dsp),
        build_dir / name,
        include_dirs=(model_dir, KERNEL_DIR),
        defines=("KWS_HOST_MAIN", *((DSP_DEFINE,) if dsp else ())),
        sanitize=sanitize,
    )


def run_checked(command: list[str], stdin: bytes = b"", env: dict[str, str] | None = None) -> bytes:
    """Run a host-built program under the sanitizers' settings; a failure, a sanitizer report or anything
    on stderr (our programs write there only when something is wrong) raises. Returns its stdout."""
    full_env = {**os.environ, **SANITIZER_ENV, **(env or {})}
    full_env.pop("LD_PRELOAD", None)
    result = subprocess.run(command, input=stdin, capture_output=True, env=full_env, timeout=RUN_TIMEOUT_S)
    stderr = result.stderr.decode(errors="replace")
    if result.returncode != 0 or stderr.strip():
        name = Path(command[0]).name
        raise HostBuildError(f"{name} failed ({result.returncode}):\n{stderr[-4000:]}", path=command[0])
    return result.stdout


def run_executable(executable: Path, inputs: np.ndarray, output_elements: int) -> np.ndarray:
    """Run a `build_model_executable` program on int8 `inputs` [N, ...]; a sanitizer report fails it."""
    x = np.ascontiguousarray(np.asarray(inputs, dtype=np.int8).reshape(inputs.shape[0], -1))
    work = executable.parent
    in_path, out_path = work / f"{executable.name}.in", work / f"{executable.name}.out"
    in_path.write_bytes(x.tobytes())
    run_checked([str(executable), str(in_path), str(out_path)])
    y = np.frombuffer(out_path.read_bytes(), dtype=np.int8)
    return y.reshape(x.shape[0], output_elements)


FIRMWARE_DIR = ROOT / "firmware"
APP_SOURCES = (FIRMWARE_DIR / "src" / "main.c", FIRMWARE_DIR / "boards" / "host" / "board.c")
LIB_SOURCES = (*KERNEL_SOURCES, "kws_frontend.c", "kws_detector.c")
GENERATED_SOURCES = ("kws_model.c", "kws_frontend_tables.c", "kws_app.c")


def build_app_executable(generated_dir: Path, build_dir: Path, *, sanitize: bool = True) -> Path:
    """The firmware's application (firmware/src/main.c) built for the host with the exported files in
    `generated_dir`: raw s16le audio on stdin, the firmware's console lines on stdout."""
    name = "kws_app_sanitized" if sanitize else "kws_app"
    return compile_c(
        [*APP_SOURCES, *(KERNEL_DIR / s for s in LIB_SOURCES), *(generated_dir / s for s in GENERATED_SOURCES)],
        build_dir / name,
        include_dirs=(FIRMWARE_DIR / "include", KERNEL_DIR, generated_dir),
        sanitize=sanitize,
    )


def run_app(executable: Path, audio: np.ndarray, *, scores: bool = False) -> str:
    """Run a `build_app_executable` program on int16 `audio`; returns its console output."""
    stdin = np.ascontiguousarray(audio, dtype="<i2").tobytes()
    return run_checked([str(executable)], stdin, {"NANOKWS_SCORES": "1" if scores else "0"}).decode()
