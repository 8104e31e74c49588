"""A LangChain agent (``langchain.agents.create_agent``, LangGraph underneath) traced by
``spyglass.autolog()``: the trace shows the agent, each model call and each tool call, nested
as they ran, with the tool-call ids linking the model's requests to the tools' answers.

Offline: a scripted chat model plays the part of a tool-calling LLM (it first asks for two
tools, then answers from their results). Swap in ``ChatOpenAI`` and nothing else changes.

    python examples/langchain_agent.py [--db PATH]
"""

from __future__ import annotations

import argparse
import os

from langchain.agents import create_agent
from langchain_core.messages import AIMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.tools import tool

import spyglass
from spyglass.demo import ScriptedToolModel  # an offline tool-calling model

USAGE = UsageMetadata(input_tokens=52, output_tokens=18, total_tokens=70)


@tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return {"Paris": "sunny, 24°C", "Oslo": "rain, 11°C"}.get(city, "unknown")


@tool
def get_time(city: str) -> str:
    """Local time in a city."""
    return {"Paris": "14:05", "Oslo": "14:05"}.get(city, "unknown")


def scripted_model() -> ScriptedToolModel:
    """What a tool-calling model would say: call both tools, then answer from their results."""
    ask = AIMessage(
        content="",
        tool_calls=[
            {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_weather"},
            {"name": "get_time", "args": {"city": "Paris"}, "id": "call_time"},
        ],
        usage_metadata=USAGE,
        response_metadata={"model_name": "scripted-agent-1", "finish_reason": "tool_calls"},
    )
    answer = AIMessage(
        content="In Paris it is 14:05 and sunny, 24°C.",
        usage_metadata=USAGE,
        response_metadata={"model_name": "scripted-agent-1", "finish_reason": "stop"},
    )
    return ScriptedToolModel(responses=[ask, answer])


def build_agent() -> object:
    return create_agent(
        scripted_model(),
        tools=[get_weather, get_time],
        system_prompt="You answer questions about cities with your tools.",
    )


def main(db: str | os.PathLike[str] | None = None) -> str:
    """Run the agent once, traced; returns its answer."""
    spyglass.autolog(db=db)
    agent = build_agent()
    result = agent.invoke({"messages": [("user", "What's the weather and time in Paris?")]})  # type: ignore[attr-defined]
    answer = str(result["messages"][-1].content)
    print(answer)
    spyglass.flush()
    where = db if db is not None else os.environ.get("SPYGLASS_DB", "spyglass.db")
    with spyglass.Store(where) as store:  # the newest trace is the agent's run
        trace_id = store.traces(limit=1)[0].trace_id
    print(f"The agent's trace is in {where}: try")
    print(f"  spyglass show {trace_id[:12]} --db {where} --full")
    return answer


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", default=None, help="SQLite file (default: $SPYGLASS_DB or ./spyglass.db)"
    )
    main(parser.parse_args().db)
