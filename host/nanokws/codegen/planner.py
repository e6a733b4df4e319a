"""Plan one static arena for all activations from tensor lifetimes, at export time.

A tensor lives from the step that writes it (the model input: from before the first step) to the last
step that reads it (the model output: to the end). Tensors whose lifetimes overlap get disjoint memory,
so a kernel's output never overlaps its inputs; others may share. Placement is greedy, largest first, at
the lowest aligned offset that fits (TFLM's GreedyMemoryPlanner does the same). A RESHAPE's output is an
alias of its input: one buffer whose lifetime covers both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ALIGNMENT = 16
BEFORE_FIRST_STEP = -1


@dataclass(frozen=True)
class Lifetime:
    tensor: int
    size: int  # bytes
    first: int  # step that writes it (BEFORE_FIRST_STEP for the model input)
    last: int  # last step that reads it (number of steps for the model output)


@dataclass(frozen=True)
class Allocation:
    tensors: tuple[int, ...]  # one tensor, or a tensor and its aliases
    offset: int
    size: int
    first: int
    last: int

    def overlaps_in_time(self, first: int, last: int) -> bool:
        return not (self.last < first or last < self.first)


@dataclass(frozen=True)
class Plan:
    allocations: tuple[Allocation, ...]  # by offset, then first use
    arena_bytes: int

    @property
    def offsets(self) -> Mapping[int, int]:
        return {t: a.offset for a in self.allocations for t in a.tensors}


def _align(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment


def plan_arena(
    lifetimes: Iterable[Lifetime], aliases: Iterable[tuple[int, int]] = (), alignment: int = ALIGNMENT
) -> Plan:
    """Offsets for every tensor in `lifetimes`; `aliases` are (alias, original) pairs sharing memory."""
    by_tensor = {lt.tensor: lt for lt in lifetimes}
    root = {t: t for t in by_tensor}

    def find(t: int) -> int:
        while root[t] != t:
            t = root[t]
        return t

    for alias, original in aliases:
        root[find(alias)] = find(original)
    groups: dict[int, list[Lifetime]] = {}
    for t, lt in by_tensor.items():
        groups.setdefault(find(t), []).append(lt)
    buffers = [
        (
            tuple(sorted(lt.tensor for lt in members)),
            max(lt.size for lt in members),
            min(lt.first for lt in members),
            max(lt.last for lt in members),
        )
        for members in groups.values()
    ]
    # Largest first; ties by first use, then tensor index, so the plan is the same on every run.
    buffers.sort(key=lambda b: (-b[1], b[2], b[0]))
    placed: list[Allocation] = []
    for tensors, size, first, last in buffers:
        live = sorted((a for a in placed if a.overlaps_in_time(first, last)), key=lambda a: a.offset)
        offset = 0
        for a in live:
            if offset + size <= a.offset:
                break
            offset = max(offset, _align(a.offset + a.size, alignment))
        placed.append(Allocation(tensors, offset, size, first, last))
    arena = _align(max((a.offset + a.size for a in placed), default=0), alignment)
    return Plan(tuple(sorted(placed, key=lambda a: (a.offset, a.first))), arena)
