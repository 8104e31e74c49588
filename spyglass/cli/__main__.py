"""``python -m spyglass.cli``: the same as the ``spyglass`` command."""

from spyglass.cli import main

main()
