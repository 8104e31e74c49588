"""The registry API over a real file: versions, lookups, aliases, errors that say what exists."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import stat
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import spyglass
from spyglass.errors import PromptError, PromptNotFound, PromptTemplateError
from spyglass.prompts import PromptRegistry, PromptVersion
from spyglass.prompts._template import Message
from spyglass.tracer._schema import MIGRATIONS, applied_migrations

QA = "Answer from {context}\nQ: {question}"


@pytest.fixture
def registry(db: Path) -> PromptRegistry:
    return spyglass.PromptRegistry(db)


def count_rows(db: Path) -> int:
    return int(sqlite3.connect(db).execute("SELECT count(*) FROM prompt_versions").fetchone()[0])


def test_register_and_get_every_way(registry: PromptRegistry, db: Path) -> None:
    before = datetime.now(timezone.utc)
    v1 = registry.register("qa", QA, "first cut", tags=["rag"])
    v2 = registry.register("qa", [("system", "Use {context}"), ("user", "{question}")], "chat")
    v3 = registry.register("qa", QA + "\nBe brief.", model="gpt-4o", parameters={"top_p": 0.9})
    assert (v1.version, v2.version, v3.version) == (1, 2, 3)
    assert v1.template == QA and v1.variables == ("context", "question") and not v1.is_chat
    assert v1.message == "first cut" and v1.tags == ("rag",) and v1.model is None
    assert v2.is_chat and v2.template == (
        Message("system", "Use {context}"),
        Message("user", "{question}"),
    )
    assert v3.model == "gpt-4o" and dict(v3.parameters) == {"top_p": 0.9}
    assert v1.created_at.tzinfo is timezone.utc
    assert before - timedelta(seconds=1) <= v1.created_at <= datetime.now(timezone.utc)
    registry.set_alias("qa", "production", 2)
    assert registry.get("qa") == v3
    assert registry.get("qa", version=1) == v1
    assert registry.get("qa", alias="production") == v2
    assert registry.get("qa@production") == v2
    assert registry.get("qa@2") == v2
    assert registry.get("qa@latest") == v3
    assert [v.version for v in registry.versions("qa")] == [1, 2, 3]
    assert registry.names() == ["qa"]
    assert registry.aliases("qa") == {"production": 2}
    assert count_rows(db) == 3


def test_identical_content_returns_the_latest_version(registry: PromptRegistry, db: Path) -> None:
    v1 = registry.register("qa", QA, "first")
    again = registry.register("qa", QA, "a different message", tags=["other"])
    assert again == v1 and again.message == "first" and count_rows(db) == 1
    v2 = registry.register("qa", QA, model="gpt-4o")  # a model change is a new version
    assert v2.version == 2
    v3 = registry.register("qa", QA)  # back to v1's content: a new version, not v1
    assert v3.version == 3 and v3.hash == v1.hash and count_rows(db) == 3


def test_versions_are_immutable(registry: PromptRegistry) -> None:
    v1 = registry.register("qa", QA)
    with pytest.raises(dataclasses.FrozenInstanceError):
        v1.template = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        v1.parameters["x"] = 1  # type: ignore[index]
    assert {v1: "hashable"}[registry.get("qa@1")] == "hashable"


def test_chat_argument_insists_on_a_kind(registry: PromptRegistry) -> None:
    with pytest.raises(PromptError, match="chat=True needs a template that is a list"):
        registry.register("qa", QA, chat=True)
    with pytest.raises(PromptError, match="chat=False needs a template that is a string"):
        registry.register("qa", [("user", "x")], chat=False)
    assert registry.register("qa", [{"role": "user", "content": "x"}], chat=True).is_chat


def test_template_errors_at_registration(registry: PromptRegistry, db: Path) -> None:
    with pytest.raises(PromptError, match="template must be a string or a list"):
        registry.register("qa", 42)  # type: ignore[arg-type]
    with pytest.raises(PromptTemplateError, match="column 13: single '}'"):
        registry.register("qa", "Answer from }context")
    with pytest.raises(PromptError, match="model must be a non-empty string"):
        registry.register("qa", QA, model=" ")
    with pytest.raises(PromptError, match="message must be a string"):
        registry.register("qa", QA, 42)  # type: ignore[arg-type]
    assert count_rows(db) == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "prompt name is empty"),
        ("   ", "prompt name is empty"),
        ("qa@2", "contains '@'"),
        ("my prompt", "contains whitespace"),
        ("tab\tname", "contains whitespace"),
        ("x" * 129, "129 characters long; the limit is 128"),
        ("-dash", "must start with a letter or digit"),
        ("semi;colon", "may hold only letters"),
        (7, "must be a string"),
    ],
)
def test_bad_names(registry: PromptRegistry, name: object, message: str) -> None:
    with pytest.raises(PromptError, match=re.escape(message)):
        registry.register(name, QA)  # type: ignore[arg-type]


def test_good_names(registry: PromptRegistry) -> None:
    for name in ("qa", "rag/answer.v2", "x" * 128, "Ünïcode_name-1"):
        assert registry.register(name, QA).name == name


def test_not_found_errors_say_what_exists(registry: PromptRegistry) -> None:
    for _ in range(3):
        registry.register("qa", f"{QA} {_}")
    registry.register("summarize", "Summarize {text}")
    registry.set_alias("qa", "production", 2)
    registry.set_alias("qa", "staging", 3)
    expected = "no version 7 of 'qa'; versions: 1-3; aliases: production→2, staging→3"
    with pytest.raises(PromptNotFound, match=re.escape(expected)):
        registry.get("qa", version=7)
    with pytest.raises(PromptNotFound, match="no alias 'canary' of 'qa'; versions: 1-3"):
        registry.get("qa@canary")
    with pytest.raises(PromptNotFound, match=r"no prompt named 'qaa'; did you mean 'qa'\?"):
        registry.get("qaa")
    with pytest.raises(PromptNotFound, match=r"\(prompts: qa, summarize\)"):
        registry.versions("zzz")
    with pytest.raises(PromptNotFound, match="no prompt named 'zzz'"):
        registry.aliases("zzz")
    with pytest.raises(LookupError):  # PromptNotFound is a LookupError and a ValueError
        registry.get("qa@9")


def test_empty_registry_error(registry: PromptRegistry) -> None:
    with pytest.raises(PromptNotFound, match="no prompts in"):
        registry.get("qa")
    assert registry.names() == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.get("qa@"), "nothing after '@'"),
        (lambda r: r.get("qa@1", version=1), "not several"),
        (lambda r: r.get("qa", version=1, alias="x"), "not several"),
        (lambda r: r.get("qa", version=0), "positive integer"),
        (lambda r: r.get("qa", version=True), "positive integer"),
        (lambda r: r.get("qa@bad alias"), "alias 'bad alias' must be"),
        (lambda r: r.set_alias("qa", "latest", 1), "'latest' is built in"),
        (lambda r: r.set_alias("qa", "2", 1), "never looks like a version number"),
        (lambda r: r.set_alias("qa", "", 1), "non-empty string"),
        (lambda r: r.set_alias("qa", "prod", 5), "no version 5 of 'qa'"),
        (lambda r: r.set_alias("qa", "prod", "staging"), "no alias 'staging' of 'qa'"),
        (lambda r: r.delete_alias("qa", "prod"), "no alias 'prod' of 'qa'"),
        (lambda r: r.traces("qa", limit=0), "limit must be a positive integer"),
    ],
)
def test_bad_lookups(registry: PromptRegistry, call: object, message: str) -> None:
    registry.register("qa", QA)
    with pytest.raises(PromptError, match=re.escape(message)):
        call(registry)  # type: ignore[operator]


def test_aliases_move_and_go(registry: PromptRegistry) -> None:
    registry.register("qa", QA)
    registry.register("qa", QA + "!")
    assert registry.set_alias("qa", "production", 1).version == 1
    assert registry.set_alias("qa", "production", 2).version == 2
    assert registry.set_alias("qa", "staging", "production").version == 2
    assert registry.set_alias("qa", "canary", "latest").version == 2
    assert registry.set_alias("qa", "first", "1").version == 1
    assert registry.aliases("qa") == {"canary": 2, "first": 1, "production": 2, "staging": 2}
    registry.delete_alias("qa", "canary")
    assert "canary" not in registry.aliases("qa")
    assert registry.get("qa@production").version == 2


def test_format_checks_variables(registry: PromptRegistry) -> None:
    v1 = registry.register("qa", QA + " {{not a variable}}")
    assert v1.format(context="C", question="Q?") == "Answer from C\nQ: Q? {not a variable}"
    message = "cannot render qa@1: missing context, question; unknown extra, more"
    with pytest.raises(PromptError, match=re.escape(message)):
        v1.format(extra=1, more=2)
    with pytest.raises(PromptError, match=r"missing question \(its variables: context, question"):
        v1.format(context="C")
    chat = registry.register("qa", [("system", "Use {context}"), ("user", "{question}")])
    assert chat.format(context="C", question=3) == [
        {"role": "system", "content": "Use C"},
        {"role": "user", "content": "3"},
    ]
    static = registry.register("static", "no variables")
    assert static.format() == "no variables"


def test_format_error_from_a_value(registry: PromptRegistry) -> None:
    class Bad:
        def __format__(self, spec: str) -> str:
            raise RuntimeError("nope")

    v1 = registry.register("qa", "x {v}")
    with pytest.raises(PromptError, match="cannot render qa@1: RuntimeError: nope"):
        v1.format(v=Bad())


def test_to_dict_is_the_json_form(registry: PromptRegistry) -> None:
    v1 = registry.register("qa", [("user", "{q}")], "m", model="m1", parameters={"t": 1}, tags="x")
    data = v1.to_dict()
    assert data == {
        "name": "qa",
        "version": 1,
        "ref": "qa@1",
        "is_chat": True,
        "template": [{"role": "user", "content": "{q}"}],
        "variables": ["q"],
        "hash": v1.hash,
        "message": "m",
        "created_at": data["created_at"],
        "model": "m1",
        "parameters": {"t": 1},
        "tags": ["x"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", str(data["created_at"]))


def test_default_db_is_spyglass_db_and_private(tmp_path: Path) -> None:
    registry = PromptRegistry()  # conftest points $SPYGLASS_DB at tmp_path/default.db
    registry.register("qa", QA)
    registry.close()
    file = tmp_path / "default.db"
    assert file.exists() and stat.S_IMODE(file.stat().st_mode) == 0o600
    with PromptRegistry(file) as again:
        assert again.get("qa").version == 1


def test_an_older_file_is_migrated(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old, isolation_level=None)
    conn.execute("CREATE TABLE _spyglass_migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for name, fn in MIGRATIONS[:3]:
        fn(conn)
        conn.execute("INSERT INTO _spyglass_migrations VALUES (?, 'then')", (name,))
    conn.close()
    registry = PromptRegistry(old)
    assert registry.register("qa", QA).version == 1
    assert "004_prompts" in applied_migrations(sqlite3.connect(old))


def test_linked_spans_query_uses_the_partial_index(registry: PromptRegistry, db: Path) -> None:
    plan = sqlite3.connect(db).execute(
        "EXPLAIN QUERY PLAN SELECT trace_id FROM spans WHERE prompt_name = ? "
        "AND prompt_version = ?",
        ("qa", "1"),
    )
    assert "spans_prompt" in " ".join(str(row) for row in plan)


def test_threads_sharing_one_registry(registry: PromptRegistry) -> None:
    def work(worker: int) -> None:
        for i in range(10):
            registry.register("qa", f"{QA} {worker}-{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    versions: list[PromptVersion] = registry.versions("qa")
    assert [v.version for v in versions] == list(range(1, 41))
    assert len({v.template for v in versions}) == 40


def test_import_keeps_each_versions_created_at(tmp_path: Path) -> None:
    """A version new to the importing file keeps the time it was made, not the import's:
    into an empty file, and into one whose numbers are taken by other content."""
    source = PromptRegistry(tmp_path / "a.db")
    made = [source.register("qa", "v1 {q}"), source.register("qa", "v2 {q}")]
    source.export_to(tmp_path / "qa.json")
    stamp = datetime(2021, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
    text = (tmp_path / "qa.json").read_text()
    (tmp_path / "qa.json").write_text(
        text.replace(
            made[0].to_dict()["created_at"],  # type: ignore[arg-type]
            "2021-05-06T07:08:09.123456Z",
        )
    )
    for name in ("empty.db", "taken.db"):
        target = PromptRegistry(tmp_path / name)
        if name == "taken.db":
            target.register("qa", "other {q}")
        result = target.import_from(tmp_path / "qa.json")
        assert len(result.created) == 2
        by_template = {v.template: v.created_at for v in target.versions("qa")}
        assert by_template["v1 {q}"] == stamp
        assert by_template["v2 {q}"] == made[1].created_at
