"""A prompt version that holds a secret is refused, with where it is and what it looks like.

Registration (the API and the CLI) and import (the API and the CLI, JSON and YAML files) check
the name, template, message, model, parameters and tags; the error never repeats the secret,
and nothing is stored. Placeholders are not literal text: ``Bearer {token}`` is fine.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from spyglass.cli import main
from spyglass.errors import PromptError
from spyglass.prompts import PromptRegistry

KEY = "sk-proj-Zq8wVb3NcT1yRkH6mLd0PfXa9SgUe2JiYo5KtWr7"
GITHUB = "ghp_k3Jd9QmZx7Lw2RtYb8NvC5aHs1EpU4oGf6Ti"
ADVICE = "keep secrets out of them (pass one to format() as a variable instead)"


def _refused(registry: PromptRegistry, *args: object, **kwargs: object) -> str:
    with pytest.raises(PromptError) as excinfo:
        registry.register(*args, **kwargs)  # type: ignore[arg-type]
    message = str(excinfo.value)
    assert KEY not in message and GITHUB not in message and "Zq8wVb3N" not in message
    assert ADVICE in message
    return message


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (
            ("qa", f"Use the key\nkey: {KEY} for {{question}}"),
            {},
            "template holds what looks like an OpenAI or Anthropic API key at line 2, column 6",
        ),
        (
            ("qa", [("system", "Be brief."), ("user", f"token {GITHUB}\n{{question}}")]),
            {},
            "template message 2 (user) holds what looks like a GitHub token at line 1, column 7",
        ),
        (
            ("qa", "Q: {question}"),
            {"parameters": {"temperature": 0.2, "headers": {"api_key": "hunter22x"}}},
            'parameters["headers"]["api_key"] holds what looks like a password or key value',
        ),
        (
            ("qa", "Q: {question}"),
            {"message": "rotated to Bearer abc123def456ghi789"},
            "message holds what looks like a bearer token at line 1, column 19",
        ),
        (("qa", "Q: {question}"), {"tags": ["rag", GITHUB]}, "tags[1] holds what looks like"),
        (("qa", "Q: {question}"), {"model": f"gpt-4o?key={KEY}"}, "model holds what looks like"),
        ((GITHUB, "Q: {question}"), {}, "name holds what looks like a GitHub token;"),
    ],
    ids=["text", "chat", "parameters", "message", "tags", "model", "name"],
)
def test_register_refuses_a_secret_and_says_where(
    db: Path, args: tuple[object, ...], kwargs: dict[str, object], expected: str
) -> None:
    registry = PromptRegistry(db)
    registry.register("other", "Q: {question}")
    assert expected in _refused(registry, *args, **kwargs)
    assert registry.names() == ["other"]  # nothing stored


def test_placeholders_and_look_alikes_are_not_secrets(db: Path) -> None:
    registry = PromptRegistry(db)
    template = (
        "Call the API with Authorization: Bearer {token} and password={password}.\n"
        "Connect to postgres://{user}:{db_password}@db/app; keys look like sk-... or "
        "YOUR_API_KEY. Literal braces: {{api_key}}. Trace 4bf92f3577b34da6a3ce929d0e0e4736."
    )
    version = registry.register("ok", template, parameters={"api_key_env": "OPENAI_API_KEY"})
    assert version.variables == ("token", "password", "user", "db_password")
    assert version.format(token="t", password="p", user="u", db_password="d").startswith(
        "Call the API with Authorization: Bearer t and password=p."
    )


def _registry_file(path: Path, template: object, fmt: str) -> None:
    document = {
        "spyglass_prompts": 1,
        "prompts": [
            {"name": "clean", "versions": [{"version": 1, "template": "Q: {question}"}]},
            {"name": "qa", "versions": [{"version": 1, "template": template}]},
        ],
    }
    if fmt == "json":
        path.write_text(json.dumps(document))
    else:
        import yaml

        path.write_text(yaml.safe_dump(document))


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_import_refuses_a_file_with_a_secret_and_changes_nothing(
    db: Path, tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"prompts.{fmt}"
    _registry_file(path, [{"role": "user", "content": f"Answer.\n\nkey={KEY}"}], fmt)
    registry = PromptRegistry(db)
    with pytest.raises(PromptError) as excinfo:
        registry.import_from(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: prompts[1] (qa).versions[0]: template message 1 (user)")
    assert "looks like an OpenAI or Anthropic API key at line 3, column 5" in message
    assert KEY not in message
    assert registry.names() == []  # the clean prompt of the same file is not imported either


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["prompts", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_register_refuses_a_secret_before_creating_the_file(db: Path, tmp_path: Path) -> None:
    code, out, err = _cli("register", "qa", "--template", f"use {GITHUB}", "--db", str(db))
    assert code == 1 and out == ""
    assert err.startswith(
        "spyglass: error: template holds what looks like a GitHub token at line 1, column 5;"
    )
    assert GITHUB not in err and len(err.strip().splitlines()) == 1
    template = tmp_path / "qa.txt"
    template.write_text("Q: {question}\nauth: Basic dXNlcjpodW50ZXIyMg==\n")
    code, _, err = _cli("register", "qa", "--file", str(template), "--db", str(db))
    assert code == 1 and "template holds what looks like" in err and "line 2" in err
    code, _, err = _cli(
        "register", "qa", "-t", "Q", "--params", f'{{"key": "{KEY}"}}', "--db", str(db)
    )
    assert code == 1 and err.startswith('spyglass: error: parameters["key"] holds what')
    assert not db.exists()


def test_cli_import_refuses_a_secret(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "prompts.json"
    _registry_file(path, f"token: {GITHUB}", "json")
    code, out, err = _cli("import", str(path), "--db", str(db))
    assert code == 1 and out == ""
    assert "prompts[1] (qa).versions[0]: template holds what looks like a GitHub token" in err
    assert GITHUB not in err
    assert PromptRegistry(db).names() == []
