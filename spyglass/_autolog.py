"""``spyglass.autolog()`` and ``spyglass.flush()``: the one place the parts are wired together.

autolog builds a pipeline from its arguments, makes it the active one, and watches each chosen
integration's library: an integration installs when its library is imported (at once if it
already is), so autolog itself imports no framework. Every install returns its uninstall;
``autolog(disable=True)`` runs them all, removes the import watch, flushes and shuts the
pipeline down. Calling autolog again with the same arguments changes nothing.

autolog also leaves its settings in ``$SPYGLASS_CHILD_SETTINGS`` for the multiprocessing
children that spawn or forkserver start (see ``_runtime``); disable puts the variable back as
it was.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from spyglass.errors import ConfigurationError, IntegrationNotAvailable
from spyglass.integrations import INTEGRATIONS
from spyglass.integrations._hooks import PostImportFinder
from spyglass.tracer import attributes as A
from spyglass.tracer._config import content_allowed_by_env, default_db, default_project
from spyglass.tracer._integration import IntegrationContext, Uninstall
from spyglass.tracer._pipeline import Pipeline, Settings, otlp_endpoint_from_env
from spyglass.tracer._redact import make_redactor
from spyglass.tracer._runtime import active, settings_for_children
from spyglass.tracer._runtime import replace as replace_active

logger = logging.getLogger("spyglass")


@dataclass
class _Installed:
    key: tuple[object, ...]
    pipeline: Pipeline
    finder: PostImportFinder
    uninstalls: list[Uninstall] = field(default_factory=list)
    environ_before: str | None = None  # $SPYGLASS_CHILD_SETTINGS before autolog set it
    lock: threading.Lock = field(default_factory=threading.Lock)
    active: bool = True


_lock = threading.RLock()
_installed: _Installed | None = None


def _library_available(library: str) -> bool:
    """Whether ``library`` can be imported, without importing it or its parent packages.

    ``importlib.util.find_spec("a.b")`` imports ``a`` (for llama_index that runs its
    ``__init__``); search ``a``'s locations for ``b`` instead. Already imported: available.
    """
    if library in sys.modules:
        return True
    top, _, rest = library.partition(".")
    try:
        spec = importlib.util.find_spec(top)
        for part in rest.split(".") if rest else ():
            if spec is None or spec.submodule_search_locations is None:
                return False
            spec = importlib.machinery.PathFinder.find_spec(
                f"{spec.name}.{part}", list(spec.submodule_search_locations)
            )
    except (ImportError, ValueError):
        return False
    return spec is not None


def _choose(integrations: Iterable[str] | str | None) -> tuple[str, ...]:
    if integrations is None:
        return tuple(
            name for name, spec in INTEGRATIONS.items() if _library_available(spec.library)
        )
    names = (integrations,) if isinstance(integrations, str) else tuple(integrations)
    for name in names:
        if not isinstance(name, str) or name not in INTEGRATIONS:
            known = ", ".join(sorted(INTEGRATIONS))
            raise ConfigurationError(f"unknown integration {name!r}; known: {known}")
        if not _library_available(INTEGRATIONS[name].library):
            extra = name.replace("_", "-")
            raise IntegrationNotAvailable(
                f"integration {name!r} needs {INTEGRATIONS[name].library}, which is not "
                f"installed (pip install 'spyglass-trace[{extra}]')"
            )
    return tuple(dict.fromkeys(names))


def _settings(
    db: str | os.PathLike[str] | None,
    project: str | None,
    capture_content: bool,
    otlp_endpoint: str | None,
    redact: object,
) -> Settings:
    if db is not None and not isinstance(db, (str, os.PathLike)):
        raise ConfigurationError(f"db must be a path, got {type(db).__name__}")
    if project is not None and (not isinstance(project, str) or not project.strip()):
        raise ConfigurationError(f"project must be a non-empty string, got {project!r}")
    if not isinstance(capture_content, bool):
        raise ConfigurationError("capture_content must be True or False")
    if otlp_endpoint is not None and not (
        isinstance(otlp_endpoint, str) and otlp_endpoint.startswith(("http://", "https://"))
    ):
        raise ConfigurationError(f"otlp_endpoint must be an http(s) URL, got {otlp_endpoint!r}")
    try:
        redactor = make_redactor(redact)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc
    return Settings(
        db=Path(db) if db is not None else default_db(),
        project=project or default_project(),
        capture_content=capture_content and content_allowed_by_env(),
        otlp_endpoint=otlp_endpoint or otlp_endpoint_from_env(),
        redactor=redactor,
    )


def _redact_key(redact: object) -> object:
    if isinstance(redact, (bool, str)) or redact is None:
        return redact
    if isinstance(redact, (list, tuple)):
        return tuple(_redact_key(item) for item in redact)
    return id(redact)


def autolog(
    db: str | os.PathLike[str] | None = None,
    *,
    project: str | None = None,
    capture_content: bool = True,
    integrations: Iterable[str] | str | None = None,
    otlp_endpoint: str | None = None,
    redact: object = True,
    disable: bool = False,
) -> None:
    """Trace every LangChain, LlamaIndex, OpenAI and Anthropic call of this process.

    ``db`` defaults to ``$SPYGLASS_DB`` or ``./spyglass.db``; ``project`` to
    ``$SPYGLASS_PROJECT`` or ``default``. ``integrations=None`` installs every integration whose
    library is importable. ``otlp_endpoint`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) also
    sends spans to an OpenTelemetry collector over OTLP/HTTP. ``redact`` scrubs secrets: True
    (default patterns), False, extra patterns, a callable, or a ``Redactor``.
    ``autolog(disable=True)`` removes everything autolog installed.
    """
    global _installed
    if disable:
        _disable()
        return
    settings = _settings(db, project, capture_content, otlp_endpoint, redact)
    names = _choose(integrations)
    key = (
        str(settings.db.resolve()) if settings.db else None,
        settings.project,
        settings.capture_content,
        settings.otlp_endpoint,
        _redact_key(redact),
        names,
    )
    with _lock:
        if _installed is not None and _installed.key == key:
            return
        _disable()
        pipeline = Pipeline(settings)
        previous = replace_active(pipeline)
        if previous is not None:
            previous.shutdown()
        state = _Installed(
            key=key,
            pipeline=pipeline,
            finder=PostImportFinder(),
            environ_before=os.environ.get(A.ENV_CHILD_SETTINGS),
        )
        _installed = state
        os.environ[A.ENV_CHILD_SETTINGS] = settings_for_children(settings, redact)
        ctx = IntegrationContext(
            tracer=pipeline.tracer, lite=pipeline.lite, capture_content=settings.capture_content
        )
        for name in names:
            spec = INTEGRATIONS[name]
            state.finder.watch(spec.library, _installer(state, name, ctx))


def _installer(
    state: _Installed, name: str, ctx: IntegrationContext
) -> Callable[[ModuleType], None]:
    def install(_library: ModuleType) -> None:
        with state.lock:
            if not state.active:
                return
            try:
                module = importlib.import_module(INTEGRATIONS[name].implementation)
                state.uninstalls.append(module.install(ctx))
            except Exception:
                logger.warning("spyglass could not install the %s integration", name, exc_info=True)

    return install


def _disable() -> None:
    global _installed
    with _lock:
        state, _installed = _installed, None
        if state is None:
            previous = replace_active(None)
            if previous is not None:
                previous.shutdown()
            return
        state.finder.remove()
        if state.environ_before is None:
            os.environ.pop(A.ENV_CHILD_SETTINGS, None)
        else:
            os.environ[A.ENV_CHILD_SETTINGS] = state.environ_before
        with state.lock:
            state.active = False
            uninstalls, state.uninstalls = state.uninstalls, []
        for uninstall in reversed(uninstalls):
            try:
                uninstall()
            except Exception:
                logger.warning("spyglass could not uninstall an integration", exc_info=True)
        if active() is state.pipeline:
            replace_active(None)
        state.pipeline.shutdown()


def flush(timeout: float = 10.0) -> bool:
    """Block until every finished span is in the database; False if ``timeout`` passed first.

    Provider-SDK streams still open are ended first, with what they received so far (marked
    ``abandoned``): a stream left half-read is otherwise only ended by garbage collection. A
    stream another thread is still reading keeps working; its span just ends here.
    """
    streams = sys.modules.get("spyglass.integrations._sdk_streams")  # loaded only if in use
    if streams is not None:
        try:
            streams.end_open_streams()
        except Exception:
            logger.warning("spyglass could not end open streams", exc_info=True)
    pipeline = active()
    return pipeline.flush(timeout) if pipeline is not None else True
