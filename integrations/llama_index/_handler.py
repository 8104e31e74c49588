"""The two objects spyglass adds to LlamaIndex's root dispatcher, and how they are removed.

``SpyglassSpanHandler`` and ``SpyglassEventHandler`` are the pydantic models the dispatcher
expects; both hand everything to one shared ``Tracker``. The span handler overrides the
dispatcher-facing ``span_enter`` / ``span_exit`` / ``span_drop`` directly instead of the
``new_span`` / ``prepare_to_*`` hooks: the base class would also keep every span in its own
``open_spans`` dict under a lock, which the tracker already does. The tracker is a model
field excluded from dumps, not a private attribute: pydantic resolves private attributes
through ``__getattr__`` (~1 µs each), and the dispatcher calls these methods dozens of times
per query.

Every entry point is guarded: the dispatcher swallows handler exceptions anyway, but spyglass
logs its own failures (once per kind at warning level) rather than relying on that.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.span import BaseSpan
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from pydantic import Field

from spyglass.integrations.llama_index._events import HANDLERS
from spyglass.integrations.llama_index._index import IndexProbe
from spyglass.integrations.llama_index._tracker import Tracker
from spyglass.tracer._integration import IntegrationContext, Uninstall
from spyglass.tracer._runtime import ensure

logger = logging.getLogger("spyglass")

_warned: set[tuple[str, type[BaseException]]] = set()


def _failed(where: str, exc: BaseException) -> None:
    key = (where, type(exc))
    first = key not in _warned
    _warned.add(key)
    (logger.warning if first else logger.debug)(
        "spyglass: LlamaIndex %s failed; the call continues, partly untraced", where,
        exc_info=True,
    )  # fmt: skip


class SpyglassSpanHandler(BaseSpanHandler[BaseSpan]):
    """Records each dispatcher span as an OTel span (see ``_tracker``)."""

    tracker: Tracker | None = Field(default=None, exclude=True, repr=False)

    def __init__(self, tracker: Tracker) -> None:
        super().__init__()  # the base's __init__ takes only its own fields
        self.tracker = tracker

    @classmethod
    def class_name(cls) -> str:
        return "SpyglassSpanHandler"

    def span_enter(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        parent_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        tracker = self.tracker
        if tracker is None or not tracker.enabled:
            return
        try:
            tracker.enter(id_, bound_args, instance, parent_id)
        except Exception as exc:
            _failed("span start", exc)

    def span_exit(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        result: Any | None = None,
        **kwargs: Any,
    ) -> None:
        tracker = self.tracker
        if tracker is None:
            return
        try:
            tracker.exit(id_, result)
        except Exception as exc:
            _failed("span end", exc)

    def span_drop(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        err: BaseException | None = None,
        **kwargs: Any,
    ) -> None:
        tracker = self.tracker
        if tracker is None:
            return
        try:
            tracker.drop(id_, err)
        except Exception as exc:
            _failed("span error", exc)

    # The abstract hooks of the base class; unused, because the methods above replace the
    # base class's callers of them.
    def new_span(self, *args: Any, **kwargs: Any) -> BaseSpan | None:
        return None

    def prepare_to_exit_span(self, *args: Any, **kwargs: Any) -> BaseSpan | None:
        return None

    def prepare_to_drop_span(self, *args: Any, **kwargs: Any) -> BaseSpan | None:
        return None

    def close(self) -> None:
        """``Dispatcher.shutdown()``: end what is still open."""
        if self.tracker is not None:
            self.tracker.close()


class SpyglassEventHandler(BaseEventHandler):
    """Adds what each event says to the span it names (see ``_events``)."""

    tracker: Tracker | None = Field(default=None, exclude=True, repr=False)

    def __init__(self, tracker: Tracker) -> None:
        super().__init__()
        self.tracker = tracker

    @classmethod
    def class_name(cls) -> str:
        return "SpyglassEventHandler"

    def handle(self, event: Any, **kwargs: Any) -> None:
        handler = HANDLERS.get(type(event).__name__)
        if handler is None:  # most events: nothing to record that the spans do not have
            return
        tracker = self.tracker
        span_id = event.span_id
        if tracker is None or not span_id:
            return
        record = tracker.records.get(span_id)
        if record is None:
            return
        try:
            handler(tracker, record, event)
        except Exception as exc:
            _failed(type(event).__name__, exc)


def install(ctx: IntegrationContext) -> Uninstall:
    """Add spyglass's span and event handlers to the root dispatcher; return their removal."""
    lite = ctx.lite if ctx.lite is not None else ensure().lite
    indexes = IndexProbe()
    tracker = Tracker(lite, ctx.capture_content, indexes)
    span_handler = SpyglassSpanHandler(tracker)
    event_handler = SpyglassEventHandler(tracker)
    dispatcher = get_dispatcher()
    dispatcher.add_span_handler(span_handler)
    dispatcher.add_event_handler(event_handler)

    def uninstall() -> None:
        # In place and by identity: the dispatcher's lists are shared, and handlers the
        # application added (even ones equal to ours) stay where they are.
        dispatcher.span_handlers[:] = [h for h in dispatcher.span_handlers if h is not span_handler]
        dispatcher.event_handlers[:] = [
            h for h in dispatcher.event_handlers if h is not event_handler
        ]
        tracker.close()
        indexes.close()  # restores the index methods it wrapped

    return uninstall
