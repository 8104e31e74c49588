"""Run langchain-core's own unit suite without and with ``spyglass.autolog()``, and compare.

Tracing must not change what a LangChain program, or any other callback handler in it, sees.
langchain-core's unit suite exercises every calling style and callback path, so it is run
twice on the same code: once plainly, once with a pytest plugin that calls
``spyglass.autolog(integrations=["langchain"])`` in ``pytest_configure`` (SQLite files in a
temporary folder). The outcome of every test id is compared; the only accepted difference is
``test_merge_config_callbacks``, which counts the handlers a merged config carries (autolog's
handler is one more).

Steps: the sdist of the langchain-core version installed here (``--version`` to choose) is
downloaded with ``pip download --no-binary :all: --no-deps`` and unpacked under the cache
folder; a venv of its own is made beside it with the sdist installed, its ``test`` dependency
group (read from its pyproject) and this checkout of spyglass in editable mode, so later edits
need no reinstall. A separate venv, because the suite pins its own pytest and plugins (pytest
9, syrupy 5, blockbuster, pytest-socket) and must not change the development one. Both runs go
as langchain-core's Makefile runs them (``--disable-socket``, LangSmith variables unset).

    python scripts/langchain_core_suite.py [--version X] [--workers 2] [--cache DIR] [-- ARGS]

Prints passed / failed / skipped / ... each way, how many spans autolog recorded, and every
test id whose outcome differs. Exit 0: no difference beyond the accepted one; 1: other
differences (or nothing was traced); 2: the suite could not be set up or run. Needs network
access to the package index. Not part of ``scripts/check``: a run takes about a minute after the
first, which downloads and installs for a few minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
ACCEPTED = {"test_merge_config_callbacks"}  # test functions allowed to differ (see docstring)
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
UNSET = ("LANGCHAIN_TRACING_V2", "LANGCHAIN_API_KEY", "LANGSMITH_API_KEY", "LANGSMITH_TRACING")

# Loaded in both runs: writes "nodeid outcome" lines, on the controller only under xdist.
RECORDER = '''"""Each test's outcome as pytest counts it (written by langchain_core_suite.py)."""
import json, os

RANK = {"passed": 0, "skipped": 1, "xfailed": 1, "xpassed": 1, "failed": 2, "error": 3}
outcomes = {}


def _note(nodeid, outcome):  # a test's setup, call and teardown: the worst one counts
    if nodeid not in outcomes or RANK[outcome] >= RANK[outcomes[nodeid]]:
        outcomes[nodeid] = outcome


def pytest_runtest_logreport(report):
    if hasattr(report, "wasxfail"):
        _note(report.nodeid, "xpassed" if report.passed else "xfailed")
    elif report.failed:
        _note(report.nodeid, "failed" if report.when == "call" else "error")
    elif report.skipped:
        _note(report.nodeid, "skipped")
    elif report.when == "call":
        _note(report.nodeid, "passed")


def pytest_collectreport(report):
    if report.failed:
        _note(report.nodeid, "error")


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        with open(os.environ["SPYGLASS_SUITE_OUTCOMES"], "w") as out:
            json.dump(outcomes, out)
'''

# Loaded in the second run only: every test process (each xdist worker) traces into its file.
AUTOLOG = '''"""spyglass.autolog() for the whole session (written by langchain_core_suite.py)."""
import os
import spyglass


def pytest_configure(config):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    db = os.path.join(os.environ["SPYGLASS_SUITE_DATA"], worker + ".db")
    spyglass.autolog(db=db, integrations=["langchain"])


def pytest_unconfigure(config):
    spyglass.autolog(disable=True)
'''

COUNT_SPANS = (
    "import sys, spyglass\nprint(sum(spyglass.Store(p).span_count() for p in sys.argv[1:]))\n"
)


class SuiteError(Exception):
    """The suite could not be set up or run: one line for the user."""


def run(command: list[str], cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, text=True, capture_output=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise SuiteError(f"{' '.join(command[:4])} ... failed:\n" + "\n".join(tail))
    return result


def installed_version() -> str:
    try:
        return importlib.metadata.version("langchain-core")
    except importlib.metadata.PackageNotFoundError:
        raise SuiteError("langchain-core is not installed here: pass --version") from None


def fetch_sdist(python: Path, version: str, folder: Path) -> Path:
    """The unpacked sdist of langchain-core ``version`` under ``folder`` (downloaded once)."""
    source = folder / f"langchain_core-{version}"
    if (source / "pyproject.toml").exists():
        return source
    print(f"downloading the langchain-core {version} sdist ...", flush=True)
    spec = f"langchain-core=={version}"
    run(
        [
            str(python),
            "-m",
            "pip",
            "download",
            "-q",
            "--no-binary",
            ":all:",
            "--no-deps",
            spec,
            "-d",
            str(folder),
        ]
    )
    (archive,) = folder.glob(f"langchain_core-{version}.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    if not (source / "tests" / "unit_tests").is_dir():
        raise SuiteError(f"the langchain-core {version} sdist ships no tests/unit_tests")
    return source


def dependency_group(pyproject: Path, name: str) -> list[str]:
    """The requirements of one PEP 735 dependency group, included groups expanded."""
    groups = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("dependency-groups", {})

    def expand(group: str, seen: tuple[str, ...]) -> list[str]:
        if group not in groups or group in seen:
            raise SuiteError(f"{pyproject}: no usable dependency group {group!r}")
        out: list[str] = []
        for item in groups[group]:
            if isinstance(item, str):
                out.append(item)
            else:
                out.extend(expand(item["include-group"], (*seen, group)))
        return out

    return expand(name, ())


def make_venv(folder: Path, source: Path, version: str) -> Path:
    """The suite's own venv (reused while its requirements are the same); returns its python."""
    venv = folder / "venv"
    python = venv / "bin" / "python"
    requirements = [str(source), *dependency_group(source / "pyproject.toml", "test")]
    stamp = hashlib.sha256(json.dumps([requirements, str(ROOT)]).encode()).hexdigest()
    marker = venv / "spyglass-suite.stamp"
    if marker.exists() and marker.read_text() == stamp:
        return python
    print(f"installing the suite's test dependencies into {venv} ...", flush=True)
    run([sys.executable, "-m", "venv", "--clear", str(venv)])
    constraints = folder / "constraints.txt"  # langchain-tests must not replace the version
    constraints.write_text(f"langchain-core=={version}\n")
    run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "-c",
            str(constraints),
            *requirements,
            "-e",
            str(ROOT),
        ]
    )
    marker.write_text(stamp)
    return python


def run_suite(
    python: Path, source: Path, plugins: Path, autolog: bool, workers: int, extra: list[str]
) -> tuple[dict[str, str], int, str]:
    """One run: (outcome by test id, spans recorded, pytest's last line)."""
    with tempfile.TemporaryDirectory(prefix="spyglass-suite-") as tmp:
        env = {k: v for k, v in os.environ.items() if k not in UNSET and "SPYGLASS" not in k}
        env.update(
            PYTHONPATH=str(plugins),
            SPYGLASS_SUITE_OUTCOMES=str(Path(tmp) / "outcomes.json"),
            SPYGLASS_SUITE_DATA=tmp,
        )
        command = [
            str(python),
            "-m",
            "pytest",
            "tests/unit_tests",
            "-q",
            "-p",
            "no:cacheprovider",
            "--benchmark-disable",
            "--disable-socket",
            "--allow-unix-socket",
            "-p",
            "spyglass_suite_outcomes",
        ]
        if autolog:
            command += ["-p", "spyglass_suite_autolog"]
        if workers:
            command += ["-n", str(workers)]
        label = "with spyglass.autolog()" if autolog else "without spyglass"
        print(f"running the unit suite {label} ...", flush=True)
        result = subprocess.run(
            command + extra, cwd=source, env=env, text=True, capture_output=True
        )
        log = source.parent / ("with.log" if autolog else "without.log")
        log.write_text(result.stdout + result.stderr)
        if result.returncode not in (0, 1):  # 1: some tests failed, which is what we compare
            raise SuiteError(f"pytest exited {result.returncode}; see {log}")
        outcomes = json.loads((Path(tmp) / "outcomes.json").read_text())
        databases = sorted(str(p) for p in Path(tmp).glob("*.db"))
        spans = 0
        if databases:
            counted = run([str(python), "-c", COUNT_SPANS, *databases], cwd=tmp)
            spans = int(counted.stdout.strip() or 0)
        last = (result.stdout.strip().splitlines() or [""])[-1]
        return outcomes, spans, last


def compare(without: dict[str, str], with_: dict[str, str]) -> tuple[list[str], list[str]]:
    """Test ids whose outcome differs: (accepted, not accepted), as printable lines."""
    accepted: list[str] = []
    other: list[str] = []
    for nodeid in sorted(without.keys() | with_.keys()):
        before, after = without.get(nodeid, "absent"), with_.get(nodeid, "absent")
        if before != after:
            function = nodeid.rsplit("::", 1)[-1].split("[", 1)[0]
            line = f"{nodeid}: {before} -> {after}"
            (accepted if function in ACCEPTED else other).append(line)
    return accepted, other


def report(without: dict[str, str], with_: dict[str, str], spans: int, lines: list[str]) -> int:
    counts = Counter(without.values()), Counter(with_.values())
    print(f"\n{'':10}{'without spyglass':>18}{'with autolog()':>18}")
    for outcome in OUTCOMES:
        print(f"{outcome:10}{counts[0][outcome]:>18}{counts[1][outcome]:>18}")
    print(f"{'spans':10}{'':>18}{spans:>18}")
    print(f"pytest said: {lines[0]}\n        and: {lines[1]}")
    accepted, other = compare(without, with_)
    for line in accepted:
        print(f"differs (accepted): {line}")
    for line in other:
        print(f"DIFFERS: {line}")
    if spans == 0:
        print("autolog recorded no span: the comparison proves nothing")
        return 1
    print(f"{len(other)} unaccepted difference(s), {len(accepted)} accepted")
    return 1 if other else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", help="langchain-core version (default: the installed one)")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers; 0: none")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    parser.add_argument("--cache", type=Path, default=cache / "spyglass" / "langchain-core-suite")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments, after --")
    args = parser.parse_args(argv)
    try:
        version = args.version or installed_version()
        folder = args.cache / version
        folder.mkdir(parents=True, exist_ok=True)
        source = fetch_sdist(Path(sys.executable), version, folder)
        python = make_venv(folder, source, version)
        plugins = folder / "plugins"
        plugins.mkdir(exist_ok=True)
        (plugins / "spyglass_suite_outcomes.py").write_text(RECORDER)
        (plugins / "spyglass_suite_autolog.py").write_text(AUTOLOG)
        print(f"langchain-core {version}: {source}/tests/unit_tests", flush=True)
        runs = [
            run_suite(python, source, plugins, on, args.workers, args.pytest_args)
            for on in (False, True)
        ]
    except SuiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    (without, _, first), (with_, spans, second) = runs
    return report(without, with_, spans, [first, second])


if __name__ == "__main__":
    sys.exit(main())
