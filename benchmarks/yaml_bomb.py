"""``spyglass prompts import`` on "billion laughs" YAML files: time, peak memory, error size.

Writes two registry files of 534 and 546 bytes whose anchors nest (``a: &a ["xxx", ...]``,
``b: &b [*a, *a, ...]``, ...) and whose alias lands where the import quotes the value in an
error, then runs the real CLI on each in a child process, capped at 4 GB of address space and
120 s so a bad run cannot take the machine down. Prints wall time, the child's peak RSS, the
exit status and the size of what it wrote to stderr. Run: ``python benchmarks/yaml_bomb.py``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ADDRESS_SPACE = 4 * 2**30
TIMEOUT_S = 120


def bomb(levels: int, width: int, size: int) -> str:
    """``levels`` nested anchors of ``width`` aliases each, padded with a comment to ``size``."""
    names = "abcdefghijklmnop"
    lines = [f"{names[0]}: &{names[0]} [" + ",".join(['"xxx"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"{names[i]}: &{names[i]} [" + ",".join([f"*{names[i - 1]}"] * width) + "]")
    lines += [
        "spyglass_prompts: 1",
        "prompts:",
        "- name: qa",
        f"  aliases: {{production: *{names[levels - 1]}}}",
        "  versions: [{version: 1, template: hi}]",
    ]
    text = "\n".join(lines) + "\n"
    padding = size - len(text.encode()) - 3
    assert padding >= 0, "the file is larger than asked"
    return text + "# " + "-" * padding + "\n"


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def measure(path: Path, db: Path) -> tuple[float, int, int | str, int]:
    """(seconds, the child's peak RSS in MB, exit status or "timeout", bytes on stderr)."""
    command = [sys.executable, "-m", "spyglass.cli", "prompts", "import", str(path)]
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [*command, "--db", str(db)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=_limit,
        )
        status: int | str = "timeout"
        while True:  # os.wait4 rather than Popen.wait: it gives this child's own rusage
            pid, raw, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                status = os.waitstatus_to_exitcode(raw)
                break
            if time.perf_counter() - started > TIMEOUT_S:
                child.kill()
                _, _, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        child.returncode = -1  # reaped above; keep Popen from waiting again
        err.seek(0, os.SEEK_END)
        return elapsed, usage.ru_maxrss // 1024, status, err.tell()


def main() -> None:
    print(f"{'file':>10} {'seconds':>8} {'peak RSS':>10} {'exit':>8} {'stderr bytes':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for size, levels in ((534, 8), (546, 9)):
            path = Path(tmp) / f"bomb-{size}.yaml"
            path.write_text(bomb(levels, 9, size), encoding="utf-8")
            assert path.stat().st_size == size
            seconds, peak, status, err = measure(path, Path(tmp) / f"{size}.db")
            print(f"{size:>6} B {seconds:>8.2f} {peak:>7} MB {status!s:>8} {err:>14,}")


if __name__ == "__main__":
    main()
