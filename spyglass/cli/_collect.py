"""``spyglass collect``: an OTLP/HTTP receiver writing any instrumentation's spans to the file.

A thin adapter over ``spyglass.collector.serve``; imports only ``click`` and the CLI's shared
helpers at module level, so ``spyglass --help`` loads neither the collector nor aiohttp.
"""

from __future__ import annotations

import os

import click

from spyglass.cli._common import db_option, errors_to_exit, fail


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=4318,
    show_default=True,
    help="Port to listen on (0: any free one).",
)
@click.option(
    "--token",
    envvar="SPYGLASS_COLLECT_TOKEN",
    default=None,
    help="Require 'Authorization: Bearer TOKEN'. Default: $SPYGLASS_COLLECT_TOKEN, which "
    "other users cannot read as they can a command line.",
)
@errors_to_exit
def collect(db: str | None, host: str, port: int, token: str | None) -> None:
    """Receive OTLP spans from any instrumentation into the file.

    Listens for OTLP/HTTP (POST /v1/traces, protobuf or JSON) until Ctrl-C or SIGTERM, then
    writes out everything it accepted. Point an app at it with
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318.
    """
    from pathlib import Path

    from spyglass.collector import CollectorSettings, serve

    path = Path(db or os.environ.get("SPYGLASS_DB") or "spyglass.db")
    settings = CollectorSettings(db=path, host=host, port=port, token=token or None)
    if not token and host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"spyglass collect: warning: {host} without --token lets anyone write", err=True)

    def ready(url: str) -> None:
        click.echo(f"spyglass collect: listening on {url}/v1/traces, writing to {path}", err=True)

    report = serve(settings, ready)
    counts = report.counts
    click.echo(
        f"spyglass collect: stopped; {report.stored} spans stored, {counts.rejected} rejected, "
        f"{counts.refused} requests told to retry",
        err=True,
    )
    if report.late_events:
        click.echo(
            f"spyglass collect: {report.late_events} GenAI log events came after their span "
            "was stored and were not kept",
            err=True,
        )
    if report.lost:
        fail(f"{report.lost} accepted spans could not be written to {path}")
