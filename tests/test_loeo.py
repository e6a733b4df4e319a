"""Leave-one-engine-out keeps the held-out engine entirely out of training and validation."""

from __future__ import annotations

from collections import Counter

from nanokws.bench.loeo import held_out_entries


def test_held_out_engine_is_only_in_the_test_split(small_entries) -> None:
    for engine in ("espeak-ng", "flite", "festival"):
        subset = held_out_entries(small_entries, engine)
        assert all(e.split == "test" for e in subset if e.engine == engine)
        assert sum(e.engine == engine for e in subset) == sum(e.engine == engine for e in small_entries)
        others_in_test = [e for e in subset if e.split == "test" and e.engine not in (engine, "noise")]
        assert not others_in_test  # the test set is the held-out engine (and silence) only
        trained = {e.engine for e in subset if e.split in ("train", "validation")}
        assert engine not in trained and trained - {"noise"}


def test_silence_keeps_its_split(small_entries) -> None:
    subset = held_out_entries(small_entries, "flite")
    before = Counter(e.split for e in small_entries if e.label == "_silence_")
    after = Counter(e.split for e in subset if e.label == "_silence_")
    assert before == after


def test_each_setting_writes_its_own_results_file() -> None:
    from nanokws.bench.loeo import loeo_name

    assert loeo_name("") == "loeo.json"
    assert loeo_name("warp") == "loeo-warp.json"


def test_modes_are_checked_before_anything_trains(tmp_path) -> None:
    from conftest import host

    r = host("bench", "loeo", "--run", str(tmp_path / "r"), "--modes", "distilled,soft")
    assert r.returncode != 0 and "soft" in r.stderr and "distilled, hard" in r.stderr


def test_the_table_puts_every_setting_side_by_side(tmp_path) -> None:
    import json

    from nanokws.bench.loeo_table import markdown, rows

    def result(engine: str, distill: bool, acc: float, teacher: float | None = None) -> dict:
        return {"held_out": engine, "distill": distill, "int8_accuracy": acc, "teacher_accuracy": teacher}

    (tmp_path / "loeo.json").write_text(json.dumps([result("a", True, 0.5, 0.8), result("a", False, 0.4)]))
    (tmp_path / "loeo-hints.json").write_text(json.dumps([result("a", True, 0.6, 0.8), result("b", True, 0.7, 0.9)]))
    table = rows(tmp_path)
    assert [(r.setting, r.mode) for r in table] == [
        ("default", "distilled"), ("default", "hard"), ("default", "teacher"),
        ("hints", "distilled"), ("hints", "teacher"),
    ]  # fmt: skip
    text = markdown(table)
    assert "| setting | model | a | b | mean |" in text
    assert "| default | int8 student, hard | 0.400 | - | - |" in text  # no mean over some engines only
    assert "| hints | teacher | 0.800 | 0.900 | 0.850 |" in text


def test_results_of_one_setting_gather_in_one_file_whichever_process_measured_them(tmp_path) -> None:
    import json

    from nanokws.bench.loeo import LoeoResult, record_result

    def result(engine: str, distill: bool, acc: float) -> LoeoResult:
        return LoeoResult(engine, distill, 10, acc, acc, {})

    path = tmp_path / "loeo-x.json"
    record_result(path, result("espeak-ng", True, 0.5))
    record_result(path, result("kokoro", True, 0.6))  # another process, the same setting
    record_result(path, result("espeak-ng", False, 0.4))
    record_result(path, result("espeak-ng", True, 0.55))  # measured again: replaces the first
    got = {(r["held_out"], r["distill"]): r["int8_accuracy"] for r in json.loads(path.read_text())}
    assert got == {("kokoro", True): 0.6, ("espeak-ng", False): 0.4, ("espeak-ng", True): 0.55}
