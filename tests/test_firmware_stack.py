"""The firmware's worst-case stack depth, bounded from gcc's frame sizes and call graph
(`-fcallgraph-info=su`) and the image's disassembly, fits the stack the linker script reserves, with room
to spare; and the bound refuses to guess where it cannot know (recursion, indirect calls, dynamic frames)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nanokws.hil.firmware import build_image
from nanokws.hil.stack import StackError, bound, guard_bytes, read_callgraph_info, reserved_stack, worst_case

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ROOT / "firmware" / "boards" / "cortex_m4f" / "sections.ld"


def test_nano33ble_worst_case_stack_fits_the_reserved_stack_twice(tmp_path: Path) -> None:
    elf = build_image("nano33ble_stack", tmp_path)
    ci_files = sorted(elf.parent.rglob("*.ci"))
    assert len(ci_files) > 10
    report = worst_case(elf, ci_files, reserved_stack(SECTIONS))
    assert report.reserved_bytes == 4 * 1024
    names = [name for name, _ in report.main_path]
    assert names[:2] == ["Reset_Handler", "main"]
    assert "kws_model_invoke" in names  # the deepest path runs the model
    assert {name for name, _ in report.handlers} >= {"PDM_IRQHandler"}
    assert 256 < report.worst_bytes <= report.reserved_bytes // 2, report
    # No function moves sp past the MPU guard under the stack in one step: an overflow always lands in it.
    assert 0 < report.largest_frame[1] < guard_bytes(SECTIONS), report.largest_frame
    assert "Fault_Handler" in {name for name, _ in report.handlers}


def test_bound_adds_handlers_and_exception_frames() -> None:
    frames = {"reset": 8, "main": 100, "deep": 50, "shallow": 10, "isr": 16, "fault": 40}
    calls = {"reset": {"main"}, "main": {"deep", "shallow"}, "isr": {"shallow"}}
    report = bound(frames, calls, ["reset", "isr", "fault"], 1024)
    assert report.main_path == (("reset", 8), ("main", 100), ("deep", 50))
    assert report.worst_bytes == 158 + (26 + 104) + (40 + 104)


def test_bound_refuses_recursion_and_unknown_functions() -> None:
    with pytest.raises(StackError, match="recursion: reset -> a -> b -> a"):
        bound({"reset": 8, "a": 8, "b": 8}, {"reset": {"a"}, "a": {"b"}, "b": {"a"}}, ["reset"], 1024)
    with pytest.raises(StackError, match="mystery: neither"):
        bound({"reset": 8}, {"reset": {"mystery"}}, ["reset"], 1024)


def test_callgraph_reader_flags_indirect_calls_and_dynamic_frames(tmp_path: Path) -> None:
    ci = tmp_path / "x.ci"
    ci.write_text(
        'graph: { title: "x.c"\n'
        'node: { title: "f" label: "f\\nx.c:1:5\\n24 bytes (static)" }\n'
        'node: { title: "x.c:g" label: "g\\nx.c:5:13\\n16 bytes (dynamic)" }\n'
        'edge: { sourcename: "f" targetname: "__indirect_call" label: "x.c:2:5" }\n'
        'edge: { sourcename: "f" targetname: "x.c:g" label: "x.c:3:5" }\n'
        "}\n"
    )
    graph = read_callgraph_info([ci])
    assert graph.frames == {"f": 24, "g": 16}
    assert graph.calls["f"] == {"__indirect_call", "g"}
    assert any("dynamic" in p for p in graph.problems)
    assert any("indirect call" in p for p in graph.problems)
