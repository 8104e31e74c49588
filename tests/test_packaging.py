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
#: Top-level folders that are not part of the installed package.
NOT_INSTALLED = {"tests", "benchmarks", "examples", "scripts", "build", "dist"}


def _mapping() -> dict[str, str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]


def test_every_top_level_package_folder_is_mapped() -> None:
    """A new part (``collector/``) ships only once pyproject maps it: a folder of Python code
    at the top that is neither mapped nor one of the project's own folders fails here."""
    mapped = set(_mapping().values())
    packages = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    assert set(_mapping()) == packages, "packages and package-dir must name the same packages"
    for folder in sorted(ROOT.iterdir()):
        if not folder.is_dir() or folder.name.startswith(".") or folder.name in NOT_INSTALLED:
            continue
        if any(folder.glob("*.py")) and not folder.name.endswith(".egg-info"):
            assert folder.name in mapped, (
                f"{folder.name}/ holds Python code but is not in pyproject"
            )


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
    mapping = _mapping()
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
