"""The committed default model's generated sources are exactly what `host export` makes from it today: a
change to a template, the compiler or the front end that is not re-exported fails here."""

from __future__ import annotations

from pathlib import Path

from conftest import GENERATED
from nanokws.codegen.export import ALL_FILES, MODEL_NAME, export_model
from nanokws.tflite.metadata import model_info


def test_committed_generated_sources_regenerate_byte_for_byte(tmp_path: Path) -> None:
    model = (GENERATED / MODEL_NAME).read_bytes()
    export_model(model, tmp_path, MODEL_NAME)
    for name in (*ALL_FILES, MODEL_NAME):
        assert (tmp_path / name).read_bytes() == (GENERATED / name).read_bytes(), (
            f"firmware/generated/{name} is stale: run `host export --model firmware/generated/{MODEL_NAME}`"
        )
    assert sorted(p.name for p in GENERATED.iterdir()) == sorted((*ALL_FILES, MODEL_NAME))


def test_default_model_carries_its_run_config() -> None:
    info = model_info((GENERATED / MODEL_NAME).read_bytes())
    assert info.has_metadata and len(info.labels) == 12
    assert info.input_shape == (1, info.frontend.n_frames, info.frontend.n_mfcc, 1)
