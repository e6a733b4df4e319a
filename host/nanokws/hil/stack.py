"""Worst-case stack depth of a firmware image, from gcc's per-function stack usage and call graph.

The `*_stack` PlatformIO environments build an image with `-fcallgraph-info=su`: gcc writes, beside each
object, a `.ci` graph whose nodes carry the function's frame size ("N bytes (static)") and whose edges are
its calls. Functions without one (assembly, newlib's memcpy) get theirs from the image's disassembly: the
bytes their prologue pushes and subtracts from sp, and the `bl` calls in their body.

The roots are the vector table's handlers (read from the image): Reset_Handler, which runs main, and the
exception and interrupt handlers. An interrupt pushes an exception frame (104 bytes with the FPU's
registers) on top of whatever runs; counting every distinct handler as nested on top of the deepest main
path is a bound whatever the NVIC priorities. Recursion, indirect calls and dynamic frames (alloca, VLAs)
make the bound unknowable: they are reported as errors, not guessed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nanokws.errors import NanokwsError

EXCEPTION_FRAME_BYTES = 104  # r0-r3, r12, lr, pc, xPSR, s0-s15, FPSCR and alignment (FPU context)
NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
FRAME = re.compile(r"\\n(\d+) bytes \((static|dynamic|dynamic,bounded)\)")
INDIRECT = "__indirect_call"


class StackError(NanokwsError):
    """The stack bound cannot be computed (recursion, indirect calls, dynamic frames, missing functions)."""


@dataclass
class CallGraph:
    frames: dict[str, int] = field(default_factory=dict)  # function -> its own frame (bytes)
    calls: dict[str, set[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _name(title: str) -> str:
    """gcc titles static functions "file:name"; the image's symbols are plain names."""
    return title.rsplit(":", 1)[-1]


def read_callgraph_info(files: Iterable[Path]) -> CallGraph:
    graph = CallGraph()
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for title, label in NODE.findall(text):
            m = FRAME.search(label)
            if m is None:
                continue  # a callee declared elsewhere
            name = _name(title)
            if m.group(2) != "static":
                graph.problems.append(f"{name} ({path.name}): {m.group(2)} stack frame")
            graph.frames[name] = max(graph.frames.get(name, 0), int(m.group(1)))
        for source, target in EDGE.findall(text):
            graph.calls.setdefault(_name(source), set()).add(_name(target))
    for caller, callees in graph.calls.items():
        if INDIRECT in callees:
            graph.problems.append(f"{caller}: an indirect call (through a function pointer)")
    return graph


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StackError(f"{name} is not installed", hint="run `make setup` (binutils-arm-none-eabi)")
    return path


FUNCTION = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
PUSH = re.compile(r"\b(?:push|stmdb)(?:\.w)?\s+(?:sp!,\s*)?\{([^}]*)\}")
VPUSH = re.compile(r"\bvpush\s+\{([^}]*)\}")
SUB_SP = re.compile(r"\bsub(?:\.w)?\s+sp,\s*(?:sp,\s*)?#(\d+)")
CALL = re.compile(r"\bbl\s+[0-9a-f]+ <([^>+]+)>")


def _registers(text: str) -> int:
    count = 0
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = (int(re.sub(r"\D", "", p)) for p in part.split("-"))
            count += hi - lo + 1
        elif part:
            count += 1
    return count


def disassembly_frames(elf: Path) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Each function's frame from its prologue (push, vpush, sub sp) and its `bl` calls."""
    text = subprocess.run([_tool("arm-none-eabi-objdump"), "-d", "--no-show-raw-insn", str(elf)],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    frames: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        m = FUNCTION.match(line.strip())
        if m:
            current = m.group(1)
            frames[current] = 0
            calls[current] = set()
            continue
        if current is None:
            continue
        if (p := PUSH.search(line)) is not None:
            frames[current] += 4 * _registers(p.group(1))
        elif (v := VPUSH.search(line)) is not None:
            frames[current] += 4 * _registers(v.group(1))
        elif (s := SUB_SP.search(line)) is not None:
            frames[current] += int(s.group(1))
        if (c := CALL.search(line)) is not None:
            calls[current].add(c.group(1))
    return frames, calls


def vector_handlers(elf: Path) -> list[str]:
    """The functions the vector table points at (entry 1 is Reset_Handler), in table order."""
    dump = subprocess.run([_tool("arm-none-eabi-objdump"), "-s", "-j", ".isr_vector", str(elf)],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    words: list[int] = []
    for line in dump.splitlines():
        parts = line.split()
        if len(parts) >= 2 and re.fullmatch(r"[0-9a-f]+", parts[0]) and line.startswith(" "):
            for chunk in parts[1:5]:
                if re.fullmatch(r"[0-9a-f]{8}", chunk):
                    words.append(int.from_bytes(bytes.fromhex(chunk), "little"))
    symbols = subprocess.run([_tool("arm-none-eabi-nm"), str(elf)], capture_output=True, text=True,
                             check=True).stdout  # fmt: skip
    by_address = {}
    for line in symbols.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "Tt":
            by_address.setdefault(int(parts[0], 16), parts[2])
    handlers = []
    for address in words[1:]:  # words[0] is the initial stack pointer
        name = by_address.get(address & ~1)
        if name is not None and name not in handlers:
            handlers.append(name)
    return handlers


@dataclass(frozen=True)
class StackReport:
    worst_bytes: int
    main_path: tuple[tuple[str, int], ...]  # the deepest chain from Reset_Handler: (function, frame)
    handlers: tuple[tuple[str, int], ...]  # each other handler and its own depth (frame included)
    reserved_bytes: int
    largest_frame: tuple[str, int] = ("", 0)  # the one function that moves sp the furthest at once

    @property
    def margin_bytes(self) -> int:
        return self.reserved_bytes - self.worst_bytes


def bound(
    frames: dict[str, int],
    calls: dict[str, set[str]],
    handlers: list[str],
    reserved_bytes: int,
    problems: list[str] | None = None,
) -> StackReport:
    """The worst case from frames and calls: the deepest path from handlers[0] (reset) plus every other
    handler's deepest path and exception frame. Raises StackError on recursion or unknown functions."""
    problems = list(problems or [])
    depth: dict[str, tuple[int, tuple[tuple[str, int], ...]]] = {}

    def visit(name: str, stack: tuple[str, ...]) -> tuple[int, tuple[tuple[str, int], ...]]:
        if name in stack:
            problems.append(f"recursion: {' -> '.join((*stack, name))}")
            return 0, ()
        if name in depth:
            return depth[name]
        if name not in frames:
            problems.append(f"{name}: neither gcc's call graph nor the image has it")
            return 0, ()
        best: tuple[int, tuple[tuple[str, int], ...]] = (0, ())
        for callee in sorted(calls.get(name, ())):
            sub = visit(callee, (*stack, name))
            if sub[0] > best[0]:
                best = sub
        result = (frames[name] + best[0], ((name, frames[name]), *best[1]))
        depth[name] = result
        return result

    if not handlers:
        raise StackError("no vector table handlers")
    main_depth, main_path = visit(handlers[0], ())
    others = tuple((h, visit(h, ())[0]) for h in handlers[1:])
    if problems:
        raise StackError("cannot bound the stack:\n  " + "\n  ".join(sorted(set(problems))))
    worst = main_depth + sum(d + EXCEPTION_FRAME_BYTES for _, d in others)
    largest = max(((frames[n], n) for n in depth), default=(0, ""))  # every function the bound reached
    return StackReport(worst, main_path, others, reserved_bytes, (largest[1], largest[0]))


def worst_case(elf: Path, ci_files: Iterable[Path], reserved_bytes: int) -> StackReport:
    """The image's bound: gcc's frames and calls (.ci) where it has them, the disassembly's elsewhere."""
    graph = read_callgraph_info(ci_files)
    asm_frames, asm_calls = disassembly_frames(elf)
    frames = {**asm_frames, **graph.frames}  # gcc's own figure where it has one
    calls = {**asm_calls, **{k: v - {INDIRECT} for k, v in graph.calls.items()}}
    handlers = vector_handlers(elf)
    if not handlers:
        raise StackError("the image has no vector table handlers", path=elf)
    return bound(frames, calls, handlers, reserved_bytes, graph.problems)


def reserved_stack(linker_script: Path) -> int:
    """`__stack_size__`'s default in the shared linker script (e.g. "8K")."""
    m = re.search(r"__stack_size__\s*:\s*(\d+)([KM]?)\s*;", linker_script.read_text(encoding="utf-8"))
    if m is None:
        raise StackError("no __stack_size__ default", path=linker_script)
    return int(m.group(1)) * {"": 1, "K": 1024, "M": 1024 * 1024}[m.group(2)]


def guard_bytes(linker_script: Path) -> int:
    """`__stack_guard_size__`: the MPU guard under the stack (boards/cortex_m4f/mpu.c). A frame larger than
    it could step over it, so every frame must be smaller."""
    m = re.search(r"__stack_guard_size__\s*=\s*(\d+)\s*;", linker_script.read_text(encoding="utf-8"))
    if m is None:
        raise StackError("no __stack_guard_size__", path=linker_script)
    return int(m.group(1))
