"""``spyglass prompts ...`` through click's runner: every command, JSON, and every error path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from spyglass.cli import main
from spyglass.cli._prompts import prompts_group
from spyglass.prompts import PromptRegistry

QA = "Answer from {context}\nQ: {question}"
README = Path(__file__).resolve().parent.parent / "README.md"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["prompts", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str, stdin: str | None = None) -> str:
    code, out, err = run(*args, stdin=stdin)
    assert code == 0, err
    return out


@pytest.fixture
def filled(db: Path) -> Path:
    registry = PromptRegistry(db)
    registry.register("qa", QA, "first cut")
    registry.register("qa", QA + "\nBe brief.", "shorter", model="gpt-4o")
    registry.register("summarize", [("system", "Summarize."), ("user", "{text}")])
    registry.set_alias("qa", "production", 1)
    registry.close()
    return db


def test_register_from_template_file_and_stdin(db: Path, tmp_path: Path) -> None:
    out = ok("register", "qa", "--template", QA, "-m", "first", "--db", str(db))
    assert out == "registered qa@1 (variables: context, question)\n"
    out = ok("register", "qa", "-t", QA, "--db", str(db))
    assert out == "qa@1 unchanged: same template, model and parameters as the latest\n"
    template = tmp_path / "qa.txt"
    template.write_text(QA + "\nBe brief.\n")  # the file's final newline is not the prompt's
    out = ok("register", "qa", "--file", str(template), "--model", "m", "--db", str(db))
    assert out.startswith("registered qa@2")
    assert PromptRegistry(db).get("qa@2").template == QA + "\nBe brief."
    out = ok(
        "register",
        "qa",
        "--file",
        "-",
        "--params",
        '{"temperature": 0.2}',
        "--tag",
        "a",
        "--tag",
        "b",
        "--json",
        "--db",
        str(db),
        stdin="from stdin {x}\n",
    )
    data = json.loads(out)
    assert (
        data["created"] is True and data["version"] == 3 and data["template"] == ("from stdin {x}")
    )
    assert data["parameters"] == {"temperature": 0.2} and data["tags"] == ["a", "b"]


def test_register_chat_from_json_and_yaml(db: Path, tmp_path: Path) -> None:
    messages = [{"role": "system", "content": "Use {context}"}, {"role": "user", "content": "{q}"}]
    as_json = tmp_path / "chat.json"
    as_json.write_text(json.dumps(messages))
    ok("register", "c", "--chat", "--file", str(as_json), "--db", str(db))
    as_yaml = tmp_path / "chat.yaml"
    as_yaml.write_text(
        "- role: system\n  content: Use {context}\n- role: user\n  content: |\n    {q}\n    more\n"
    )
    ok("register", "c", "--chat", "-f", str(as_yaml), "--db", str(db))
    inline = json.dumps([["user", "{q}"]])
    ok("register", "c", "--chat", "-t", inline, "--db", str(db))
    versions = PromptRegistry(db).versions("c")
    assert [v.variables for v in versions] == [("context", "q"), ("context", "q"), ("q",)]
    assert versions[1].template[1].content == "{q}\nmore"  # type: ignore[index]


def test_list_log_show(filled: Path) -> None:
    out = ok("list", "--db", str(filled))
    assert "qa" in out and "production→1" in out and "summarize" in out
    listed = json.loads(ok("list", "--json", "--db", str(filled)))
    assert [(p["name"], p["latest"], p["versions"]) for p in listed] == [
        ("qa", 2, 2),
        ("summarize", 1, 1),
    ]
    assert listed[0]["aliases"] == {"production": 1} and listed[0]["updated_at"].endswith("Z")
    out = ok("log", "qa", "--db", str(filled))
    assert out.index("shorter") < out.index("first cut") and "production" in out
    logged = json.loads(ok("log", "qa", "--json", "--db", str(filled)))
    assert [v["version"] for v in logged] == [2, 1] and logged[0]["model"] == "gpt-4o"
    out = ok("show", "qa@production", "--db", str(filled))
    assert "qa@1" in out and "(production)" in out and "Answer from {context}" in out
    shown = json.loads(ok("show", "qa", "--json", "--db", str(filled)))
    assert shown["version"] == 2 and shown["aliases"] == [] and shown["ref"] == "qa@2"
    out = ok("show", "summarize", "--db", str(filled))
    assert "[system]" in out and "[user]" in out and "{text}" in out


def test_alias_and_diff(filled: Path) -> None:
    assert ok("alias", "qa", "staging", "latest", "--db", str(filled)) == "qa@staging → 2\n"
    assert ok("alias", "qa", "staging", "--delete", "--db", str(filled)) == "deleted qa@staging\n"
    out = ok("diff", "qa", "production", "2", "--db", str(filled))
    assert "qa@1 → qa@2" in out and "+Be brief." in out and "model: (none) → gpt-4o" in out
    assert "LINKED TRACES" in out
    data = json.loads(ok("diff", "qa", "1", "2", "--json", "--db", str(filled)))
    assert data["diff"].startswith("--- qa@1\n+++ qa@2\n") and data["model"]["b"] == "gpt-4o"


def test_traces_of_a_version(db: Path) -> None:
    import spyglass

    spyglass.autolog(db=db, integrations=())
    registry = PromptRegistry(db)
    v1 = registry.register("qa", QA)
    with spyglass.trace("ask"):
        v1.format(context="c", question="q")
    assert spyglass.flush()
    listed = json.loads(ok("traces", "qa@1", "--json", "--db", str(db)))
    assert [t["name"] for t in listed] == ["ask"]
    assert "ask" in ok("traces", "qa", "--db", str(db))
    registry.register("qa", QA + "!")
    assert "no traces used qa@2" in ok("traces", "qa@2", "--db", str(db))


def test_export_import_round_trip(filled: Path, tmp_path: Path) -> None:
    for name in ("prompts.yaml", "prompts.json"):
        exported = tmp_path / name
        out = ok("export", str(exported), "--db", str(filled))
        assert out == f"exported 2 prompts to {exported}\n"
        fresh = tmp_path / f"fresh-{name}.db"
        summary = json.loads(ok("import", str(exported), "--json", "--db", str(fresh)))
        assert summary == {
            "created": ["qa@1", "qa@2", "summarize@1"],
            "aliases": ["qa@production→1"],
            "unchanged": 0,
        }
        again = json.loads(ok("import", str(exported), "--json", "--db", str(fresh)))
        assert again == {"created": [], "aliases": [], "unchanged": 3}
        original, copy = PromptRegistry(filled), PromptRegistry(fresh)
        for prompt in ("qa", "summarize"):
            assert copy.versions(prompt) == original.versions(prompt)  # numbers, times, hashes
            assert copy.aliases(prompt) == original.aliases(prompt)
        out = ok("export", "--db", str(fresh))  # stdout: JSON, identical to the file's
        assert out == ok("export", "-", "--format", "json", "--db", str(filled))
    yaml_text = (tmp_path / "prompts.yaml").read_text()
    assert "template: |-\n      Answer from {context}\n      Q: {question}" in yaml_text


def test_yaml_export_is_readable_and_stable(filled: Path, tmp_path: Path) -> None:
    first = ok("export", "-", "--format", "yaml", "--db", str(filled))
    assert first.startswith("spyglass_prompts: 1\nprompts:\n- name: qa\n")
    assert first == ok("export", "-", "--format", "yaml", "--db", str(filled))


def test_import_keeps_numbers_and_merges_diverged_history(db: Path, tmp_path: Path) -> None:
    source = PromptRegistry(tmp_path / "source.db")
    for template in ("A {x}", "B {x}", "A {x}"):  # v3 reverts to v1's content
        source.register("p", template)
    source.set_alias("p", "production", 2)
    exported = tmp_path / "p.json"
    source.export_to(exported)
    target = PromptRegistry(db)
    target.register("p", "A {x}")
    target.register("p", "C {x}")  # diverged: v2 differs
    result = target.import_from(exported)
    assert result.created == ["p@3"] and result.unchanged == 2
    assert [v.template for v in target.versions("p")] == ["A {x}", "C {x}", "B {x}"]
    assert target.aliases("p") == {"production": 3}
    again = target.import_from(exported)
    assert again.created == [] and again.aliases == [] and again.unchanged == 3
    empty = PromptRegistry(tmp_path / "empty.db")
    empty.import_from(exported)
    assert [v.template for v in empty.versions("p")] == ["A {x}", "B {x}", "A {x}"]


def test_an_edited_file_imports_as_a_new_version(filled: Path, tmp_path: Path) -> None:
    exported = tmp_path / "p.json"
    ok("export", str(exported), "--db", str(filled))
    data = json.loads(exported.read_text())
    data["prompts"][0]["versions"][1]["template"] = "edited {question}"
    exported.write_text(json.dumps(data))
    result = json.loads(ok("import", str(exported), "--json", "--db", str(filled)))
    assert result["created"] == ["qa@3"]
    assert PromptRegistry(filled).get("qa@3").template == "edited {question}"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


ERRORS = [
    (["list"], "no database at"),
    (["log", "qa"], "no database at"),
    (["show", "qa"], "no database at"),
    (["diff", "qa", "1", "2"], "no database at"),
    (["traces", "qa@1"], "no database at"),
    (["export", "-"], "no database at"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS)
def test_read_commands_never_create_a_file(tmp_path: Path, args: list[str], message: str) -> None:
    missing = tmp_path / "missing.db"
    code, out, err = run(*args, "--db", str(missing))
    assert code == 1 and out == "" and message in err
    assert err.startswith("spyglass: error: ") and err.count("\n") == 1
    assert not missing.exists()


def bad_cases(tmp_path: Path) -> list[tuple[list[str], str]]:
    not_prompts = write(tmp_path, "other.json", '{"hello": 1}')
    bad_json = write(tmp_path, "bad.json", "{nope")
    bad_yaml = write(tmp_path, "bad.yaml", "a: [1, 2")
    bad_role = write(tmp_path, "role.json", '[{"role": "robot", "content": "x"}]')
    not_list = write(tmp_path, "obj.json", '{"role": "user", "content": "x"}')
    bad_version = write(
        tmp_path,
        "v.json",
        '{"spyglass_prompts": 1, "prompts": [{"name": "z", "versions": [{"version": 1}]}]}',
    )
    return [
        (["show", "qaa"], "no prompt named 'qaa'; did you mean 'qa'?"),
        (["show", "nope"], "no prompt named 'nope' (prompts: qa, summarize)"),
        (["show", "qa@7"], "no version 7 of 'qa'; versions: 1-2; aliases: production→1"),
        (["show", "qa@canary"], "no alias 'canary' of 'qa'"),
        (["show", "qa@"], "nothing after '@'"),
        (["log", "bad name"], "contains whitespace"),
        (["diff", "qa", "1", "9"], "no version 9 of 'qa'"),
        (["register", "qa", "-t", "oops }"], "bad template at line 1, column 6: single '}'"),
        (["register", "qa"], "exactly one of --file or --template"),
        (["register", "qa", "-t", "x", "-f", not_list], "exactly one of --file or --template"),
        (["register", "qa", "-f", str(tmp_path / "none.txt")], "cannot read"),
        (["register", "q@a", "-t", "x"], "contains '@'"),
        (["register", "qa", "-t", "x", "--params", "{bad"], "--params: not valid JSON"),
        (["register", "qa", "-t", "x", "--params", "[1]"], "--params must be a JSON object"),
        (["register", "qa", "-t", "x", "--model", " "], "model must be a non-empty string"),
        (["register", "c", "--chat", "-f", bad_role], "message 1 has role 'robot'"),
        (["register", "c", "--chat", "-f", not_list], "a chat prompt is a list"),
        (["register", "c", "--chat", "-t", "not json"], "--template: not valid JSON"),
        (["alias", "qa", "latest", "1"], "'latest' is built in"),
        (["alias", "qa", "prod", "9"], "no version 9 of 'qa'"),
        (["alias", "qa", "prod"], "give the VERSION"),
        (["alias", "qa", "prod", "1", "--delete"], "not both"),
        (["alias", "qa", "nope", "--delete"], "no alias 'nope' of 'qa'"),
        (["import", str(tmp_path / "none.json")], "no such file"),
        (["import", not_prompts], "is not a spyglass prompts file"),
        (["import", bad_json], "not valid JSON"),
        (["import", bad_yaml], "not valid YAML"),
        (["import", bad_version], "prompts[0] (z).versions[0]: template must be a string"),
        (["import", write(tmp_path, "x.txt", "")], "use a .json, .yaml or .yml file"),
        (["export", str(tmp_path / "out.txt")], "use a .json, .yaml or .yml file"),
        (["traces", "qa@1", "-n", "5", "--json"], ""),  # not an error: an empty list
    ]


def test_every_error_is_one_line_and_exit_1(filled: Path, tmp_path: Path) -> None:
    for args, message in bad_cases(tmp_path):
        code, out, err = run(*args, "--db", str(filled))
        if not message:
            assert code == 0 and json.loads(out) == []
            continue
        assert code == 1, (args, out, err)
        assert message in err, (args, err)
        assert err.startswith("spyglass: error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err and out == ""


def test_a_bad_import_changes_nothing(filled: Path, tmp_path: Path) -> None:
    exported = tmp_path / "p.json"
    ok("export", str(exported), "--db", str(filled))
    data = json.loads(exported.read_text())
    data["prompts"].append({"name": "new", "versions": [{"version": 1, "template": "x }"}]})
    exported.write_text(json.dumps(data))
    code, _, err = run("import", str(exported), "--db", str(filled))
    assert code == 1 and "single '}'" in err
    assert "new" not in PromptRegistry(filled).names()


def test_yaml_without_pyyaml(filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml now raises ImportError
    code, _, err = run("export", str(tmp_path / "p.yaml"), "--db", str(filled))
    assert code == 1 and "YAML needs PyYAML" in err
    ok("export", str(tmp_path / "p.json"), "--db", str(filled))  # JSON still works


def test_write_commands_create_the_file(tmp_path: Path) -> None:
    fresh = tmp_path / "sub" / "new.db"
    ok("register", "qa", "-t", QA, "--db", str(fresh))
    assert fresh.exists()
    tables = {r[0] for r in sqlite3.connect(fresh).execute("SELECT name FROM sqlite_master")}
    assert {"prompts", "prompt_versions", "prompt_aliases", "spans"} <= tables


def test_every_prompts_command_has_help_and_is_in_the_readme() -> None:
    readme = README.read_text()
    for name, command in prompts_group.commands.items():
        code, out, _ = run(name, "--help")
        assert code == 0 and (command.help or "").split("\n")[0] in out
        assert f"spyglass prompts {name}" in readme, name
