"""The arena planner gives tensors that are live at the same time disjoint, aligned memory, lets the others
share, keeps a RESHAPE's output in its input's memory, and plans the same way every time."""

from __future__ import annotations

import numpy as np

from nanokws.codegen.planner import ALIGNMENT, Lifetime, plan_arena


def _check_disjoint(lifetimes: list[Lifetime], offsets: dict[int, int], aliases: set[frozenset[int]]) -> None:
    for i, a in enumerate(lifetimes):
        assert offsets[a.tensor] % ALIGNMENT == 0
        for b in lifetimes[i + 1 :]:
            if frozenset((a.tensor, b.tensor)) in aliases:
                continue
            live_together = not (a.last < b.first or b.last < a.first)
            overlap = offsets[a.tensor] < offsets[b.tensor] + b.size and offsets[b.tensor] < offsets[a.tensor] + a.size
            assert not (live_together and overlap), (a, b)


def test_a_chain_needs_two_buffers() -> None:
    lifetimes = [Lifetime(0, 490, -1, 0)] + [Lifetime(t, 8000, t - 1, t) for t in range(1, 6)]
    plan = plan_arena(lifetimes)
    assert plan.arena_bytes == 16000
    assert len({plan.offsets[t] for t in range(1, 6)}) == 2


def test_tensors_live_together_get_disjoint_aligned_memory() -> None:
    lifetimes = [Lifetime(0, 10, -1, 2), Lifetime(1, 20, 0, 1), Lifetime(2, 5, 1, 2), Lifetime(3, 30, 2, 3)]
    plan = plan_arena(lifetimes)
    _check_disjoint(lifetimes, dict(plan.offsets), set())
    assert plan.arena_bytes % ALIGNMENT == 0


def test_an_alias_shares_its_original_memory_for_both_lifetimes() -> None:
    # 1 is a reshape of 0; 2 is written while 1 is still read, so it must not take 0's memory.
    lifetimes = [Lifetime(0, 64, -1, 1), Lifetime(1, 64, 1, 3), Lifetime(2, 64, 2, 3), Lifetime(3, 64, 3, 4)]
    plan = plan_arena(lifetimes, aliases=[(1, 0)])
    assert plan.offsets[0] == plan.offsets[1]
    assert plan.offsets[2] != plan.offsets[0]
    _check_disjoint(lifetimes, dict(plan.offsets), {frozenset((0, 1))})


def test_random_lifetimes_never_collide_and_plan_identically() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 20))
        lifetimes = []
        for t in range(n):
            first = int(rng.integers(-1, 10))
            lifetimes.append(Lifetime(t, int(rng.integers(1, 5000)), first, first + int(rng.integers(0, 5))))
        plan = plan_arena(lifetimes)
        _check_disjoint(lifetimes, dict(plan.offsets), set())
        assert plan.arena_bytes >= max(lt.size for lt in lifetimes)
        assert plan_arena(list(reversed(lifetimes))) == plan
