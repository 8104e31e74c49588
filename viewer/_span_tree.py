"""The span tree widget: each span's kind and name, then its bar on a shared time axis.

Labels are padded by depth so that every bar starts in the same column whatever the nesting,
which makes the tree read as a waterfall. Labels are ``Text`` built through ``safe_text``:
a ``str`` label would be parsed as markup by ``Tree``.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from spyglass.tracer._records import SpanRecord, Trace
from spyglass.viewer import _format
from spyglass.viewer._format import KIND_STYLE
from spyglass.viewer._messages import SpanChosen
from spyglass.viewer._safe import safe_text
from spyglass.viewer._waterfall import bar

#: Cells after the name: a space, the bar, a space, the duration.
_DURATION_WIDTH = 8
_KIND_SHORT = {"RETRIEVER": "RETRV", "EMBEDDING": "EMBED", "RERANKER": "RRANK"}


class SpanTree(Tree[SpanRecord]):
    """Every span, expanded; moving the cursor posts ``SpanChosen``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("spans"), id=id)
        self.show_root = False
        self.guide_depth = 3

    def load(self, trace: Trace, width: int) -> None:
        """Rebuild for ``trace``, labels fitted to ``width`` cells."""
        self.clear()
        bar_width = max(8, min(40, width // 3))
        name_width = max(12, width - bar_width - _DURATION_WIDTH - 4)
        s = trace.summary
        total = s.end_ns - s.start_ns
        # Iterative: agent loops can nest deeper than the recursion limit.
        stack: list[tuple[TreeNode[SpanRecord], SpanRecord, int]] = [
            (self.root, span, 0) for span in reversed(trace.roots)
        ]
        while stack:
            parent, span, depth = stack.pop()
            children = trace.children(span)
            # Guides take guide_depth cells per level, and a parent's label follows its "▼ ".
            indent = depth * self.guide_depth + (len(self.ICON_NODE_EXPANDED) if children else 0)
            label = self._label(span, name_width - indent)
            label.append_text(bar(span, s.start_ns, total, bar_width))
            label.append(f" {_format.duration(span.duration_ms):>{_DURATION_WIDTH - 1}}", "dim")
            if children:
                node = parent.add(label, data=span, expand=True)
                stack.extend((node, child, depth + 1) for child in reversed(children))
            else:
                parent.add_leaf(label, data=span)
        self.move_cursor_to_line(0)

    @staticmethod
    def _label(span: SpanRecord, width: int) -> Text:
        kind = _KIND_SHORT.get(span.kind, span.kind[:5])
        label = Text(f"{kind:<6}", style=KIND_STYLE.get(span.kind, ""))
        failed = span.status == "ERROR"
        # A mark, not only red: failures must show on a terminal without colour, too.
        name = Text(_format.FAILED_MARK, style="bold red") if failed else Text()
        name.append_text(safe_text(span.name, "bold red" if failed else "", single_line=True))
        name.truncate(max(1, width - 6), overflow="ellipsis", pad=True)
        label.append_text(name)
        label.append(" ")
        return label

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[SpanRecord]) -> None:
        if event.node.data is not None:
            self.post_message(SpanChosen(event.node.data))
