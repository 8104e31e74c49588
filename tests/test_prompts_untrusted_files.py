"""Registry, template and chat files are untrusted: YAML aliases, nodes and nesting are bounded,
files are capped in size, and every refusal is one short line naming the file.

The "billion laughs" files run through the real CLI in a child process capped at 1 GB of
address space: before the bounds, the 534-byte one wrote a 312 MB error message (1.5 GB of
memory) and the 546-byte one ran out of memory.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from spyglass.cli import main
from spyglass.errors import PromptError
from spyglass.prompts import PromptRegistry
from spyglass.prompts._files import dump_text, parse_text


def bomb(levels: int, width: int, size: int) -> str:
    """Nested anchors (``b: &b [*a, *a, ...]``), the last one quoted by an error, padded to
    ``size`` bytes (the shape of ``benchmarks/yaml_bomb.py``'s files)."""
    lines = ["a0: &a0 [" + ",".join(['"xxx"'] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    lines += ["spyglass_prompts: 1", "prompts:", "- name: qa"]
    lines += [
        f"  aliases: {{production: *a{levels - 1}}}",
        "  versions: [{version: 1, template: hi}]",
    ]
    text = "\n".join(lines) + "\n"
    return text + "# " + "-" * (size - len(text) - 3) + "\n"


def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def fails(*args: str, stdin: str = "") -> str:
    code, out, err = run(*args, stdin=stdin)
    assert (code, out) == (1, ""), (code, out, err[:500])
    assert err.startswith("spyglass: error: ") and err.count("\n") == 1, err[:500]
    assert len(err) < 1100
    return err


def _one_gigabyte() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))


@pytest.mark.parametrize(("size", "levels"), [(534, 8), (546, 9)])
def test_billion_laughs_is_refused_at_once(
    tmp_path: Path, db: Path, size: int, levels: int
) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb(levels, 9, size))
    assert path.stat().st_size == size
    done = subprocess.run(
        [sys.executable, "-m", "spyglass.cli", "prompts", "import", str(path), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_one_gigabyte,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and len(done.stderr) < 400, done.stderr[:300]
    assert "refused: its YAML aliases expand to more than 1,000,000" in done.stderr
    assert not db.exists()  # refused before the registry was opened


def test_aliases_within_the_bound_still_work(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    path.write_text(
        "system: &system {role: system, content: Answer from the context only.}\n"
        "spyglass_prompts: 1\n"
        "prompts:\n"
        "- name: qa\n"
        "  versions:\n"
        "  - {version: 1, template: [*system, {role: user, content: '{q}'}]}\n"
        "- name: summary\n"
        "  versions:\n"
        "  - {version: 1, template: [*system, {role: user, content: 'Sum up {text}'}]}\n"
    )
    code, _, err = run("prompts", "import", str(path), "--db", str(db))
    assert code == 0, err
    qa = PromptRegistry(db).get("qa")
    assert qa.format(q="?")[0] == {"role": "system", "content": "Answer from the context only."}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &a [1, *a]\n", "a YAML alias refers to the node that contains it"),
        ("x: " + "[" * 70 + "]" * 70 + "\n", "nests more than 64 levels deep"),
        ("x: [" + ",".join(["1"] * 200_001) + "]\n", "more than 200,000 YAML nodes"),
        ("big: &b '" + "x" * 600_000 + "'\nc: [*b, *b]\n", "aliases expand to more than"),
    ],
)
def test_yaml_past_a_bound_is_refused(tmp_path: Path, db: Path, text: str, message: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    err = fails("prompts", "import", str(path), "--db", str(db))
    assert f"{path}: refused: " in err and message in err
    err = fails("prompts", "register", "qa", "--chat", "--file", str(path), "--db", str(db))
    assert message in err


def test_deep_json_is_refused(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)  # past Python's own recursion limit
    assert "not valid JSON: nested too deeply" in fails("prompts", "import", str(path))
    path.write_text('{"spyglass_prompts": 1, "prompts": ' + "[" * 80 + "]" * 80 + "}")
    assert "nests more than 64 levels deep" in fails("prompts", "import", str(path))
    params = "[" * 100 + "]" * 100
    err = fails("prompts", "register", "qa", "-t", "x", "--params", params, "--db", str(db))
    assert "--params: refused: it nests more than 64 levels deep" in err


def test_files_past_the_size_cap_are_refused(tmp_path: Path, db: Path) -> None:
    from spyglass.prompts._files import MAX_FILE_BYTES

    path = tmp_path / "huge.json"
    path.write_bytes(b" " * (MAX_FILE_BYTES + 1))
    assert f"{path} is larger than 8 MB" in fails("prompts", "import", str(path), "--db", str(db))
    assert "larger than 8 MB" in fails("prompts", "register", "qa", "-f", str(path))
    err = fails("prompts", "register", "qa", "-f", "-", stdin="x" * (MAX_FILE_BYTES + 1))
    assert "stdin holds more than 8,388,608 characters" in err
    assert not db.exists()


def test_values_quoted_in_errors_are_cut_short(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "odd.yaml"
    for body, expected in [
        ("version: " + "9" * 5000, "not valid YAML: Exceeds the limit"),
        ("version: 99999999999999999999", "version must be at most 9223372036854775807"),
        ("version: [" + ", ".join(["'" + "y" * 100 + "'"] * 100) + "]", "positive integer"),
        ("version: 1\n    template: x\n    created_at: '0001-01-01'", "between 1678 and 2262"),
        ("version: 1\n    template: [{role: '" + "r" * 10_000 + "', content: x}]", "has role"),
    ]:
        path.write_text(f"spyglass_prompts: 1\nprompts:\n- name: qa\n  versions:\n  - {body}\n")
        err = fails("prompts", "import", str(path), "--db", str(db))
        assert expected in err and len(err) < 400, err


def test_the_bounded_loader_reads_what_safe_load_reads() -> None:
    from spyglass.prompts import _yaml

    registry = {
        "spyglass_prompts": 1,
        "prompts": [
            {
                "name": f"p{i}",
                "aliases": {"production": 1},
                "versions": [{"version": 1, "template": "line {x}\n" * 50, "tags": ["a"]}],
            }
            for i in range(50)
        ],
    }
    text = dump_text(registry, "yaml")
    assert _yaml.load(text) == yaml.safe_load(text) == registry
    odd = "a: &a {b: 2026-01-01, c: !!binary aGk=}\nd: [*a, *a]\n<<: *a\n"
    assert _yaml.load(odd) == yaml.safe_load(odd)
    assert _yaml.load("") is None and _yaml.load("# nothing") is None
    with pytest.raises(yaml.YAMLError):
        _yaml.load("x: *undefined")
    with pytest.raises(PromptError, match="not valid YAML"):
        parse_text("[unclosed", "yaml", "f.yaml")
    assert json.loads(json.dumps(_yaml.load("x: [1, 2]"))) == {"x": [1, 2]}


def test_the_pure_python_parser_keeps_the_same_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    from spyglass.prompts import _yaml

    monkeypatch.setattr(yaml, "__with_libyaml__", False)  # as where PyYAML lacks libyaml
    assert _yaml.load("a: &a [1, 2]\nb: [*a, *a]\n") == {"a": [1, 2], "b": [[1, 2], [1, 2]]}
    with pytest.raises(_yaml.YamlLimit, match="aliases expand"):
        _yaml.load(bomb(9, 9, 546))
    with pytest.raises(_yaml.YamlLimit, match="nests more than 64"):
        _yaml.load("- " * 5000 + "x")  # past Python's recursion limit without the bound
