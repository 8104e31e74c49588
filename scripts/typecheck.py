"""Type-check the installed layout: mypy cannot follow setuptools' package-dir mapping.

pyproject maps top-level folders (tracer/, integrations/, ...) into the ``spyglass`` namespace.
This builds that namespace as a tree of symlinks in a temporary folder and runs mypy on it, so
imports like ``spyglass.tracer._store`` resolve to the files in this checkout.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mapping: dict[str, str] = config["tool"]["setuptools"]["package-dir"]
    with tempfile.TemporaryDirectory(prefix="spyglass-typecheck-") as tmp:
        tree = Path(tmp)
        for package, folder in sorted(mapping.items(), key=lambda item: item[0].count(".")):
            target = tree.joinpath(*package.split("."))
            target.mkdir(parents=True, exist_ok=True)
            for source in (ROOT / folder).iterdir():
                if source.suffix in (".py", ".typed") and not (target / source.name).exists():
                    (target / source.name).symlink_to(source)
        command = [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            str(tree / "spyglass"),
        ]
        result = subprocess.run(command, cwd=tree, capture_output=True, text=True)
        sys.stdout.write(result.stdout.replace(str(tree) + "/", ""))
        sys.stderr.write(result.stderr)
        return result.returncode


if __name__ == "__main__":
    sys.exit(main())
