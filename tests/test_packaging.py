"""The wheel holds every subpackage: pyproject's explicit package list must stay complete."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_every_module(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-dir"
    ]
    expected = set()
    for package, folder in mapping.items():
        for source in (ROOT / folder).glob("*.py"):
            expected.add("/".join([*package.split("."), source.name]))
    # every folder with an __init__.py under a mapped folder must itself be mapped
    for folder in mapping.values():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT).as_posix()
            assert rel in mapping.values(), f"{rel} is a package but not in pyproject"
    missing = expected - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    assert "spyglass/py.typed" in names
    entry = [n for n in names if n.endswith("entry_points.txt")]
    assert (
        entry and "spyglass = spyglass.cli:main" in zipfile.ZipFile(wheel).read(entry[0]).decode()
    )
