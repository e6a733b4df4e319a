"""The run directory (`runs/<name>/`): where every stage reads its inputs and writes its artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nanokws.config import RunConfig, load_config, save_config
from nanokws.errors import ConfigError


@dataclass(frozen=True)
class RunDir:
    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / "config.json"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def features(self) -> Path:
        return self.root / "features.npz"

    @property
    def report(self) -> Path:
        return self.root / "report"


def open_run(root: Path, config: RunConfig | None = None) -> tuple[RunDir, RunConfig]:
    """Open a run, creating it with `config` if new; an existing run must have been made with the same config."""
    if root.exists() and not root.is_dir():
        raise ConfigError("the run directory is a file", path=root, hint="choose another --run path")
    run = RunDir(root)
    if run.config_path.exists():
        stored = load_config(run.config_path)
        if config is not None and stored != config:
            diff = _differences(stored.to_dict(), config.to_dict())
            raise ConfigError(
                f"the run directory was made with a different configuration ({'; '.join(diff)})",
                path=run.config_path,
                hint="use a new --run directory, or delete this one to start over",
            )
        return run, stored
    if config is None:
        raise ConfigError(
            "not a run directory (no config.json)",
            path=root,
            hint="create it with `host data synth --run ...`",
        )
    root.mkdir(parents=True, exist_ok=True)
    save_config(run.config_path, config)
    return run, config


def _differences(a: dict, b: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += _differences(va, vb, f"{prefix}{key}.")
        elif va != vb:
            out.append(f"{prefix}{key}: {va!r} in the run, {vb!r} asked for")
    return out
