"""`host soak`, the CI variant of the 30-minute run (`host soak --minutes 30`): two minutes of keywords
over noise through the emulated firmware, detection for detection equal to the Python twin (time stamps
too: no drift), with no overruns and exactly the hops and inferences the audio implies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import host


@pytest.mark.slow
def test_two_minute_soak_matches_the_twin_without_drift_or_overruns(small_synth, tmp_path: Path) -> None:
    root, _ = small_synth
    out = tmp_path / "soak.json"
    r = host("soak", "--data", str(root), "--split", "train", "--minutes", "2", "--json", str(out))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["passed"] and report["mismatches"] == 0 and report["overruns"] == 0
    # Two minutes of audio take over 2 s of emulated time (2e9 instructions), the watchdog's period: it
    # would have reset the firmware had the loop not fed it.
    assert report["restarts"] == 0
    assert report["hops"] == report["expected_hops"] == 6000
    assert report["inferences"] == report["expected_inferences"] > 500
    assert report["keywords_inserted"] >= 30
    assert report["firmware_detections"] == report["twin_detections"] > 0
