"""A ``create_agent`` agent (LangGraph underneath) with a scripted tool-calling model."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.tools import tool
from langchain_fakes import attr_json, only_trace, tree

import spyglass
from spyglass.demo import ScriptedToolModel
from spyglass.tracer import attributes as A

USAGE = UsageMetadata(input_tokens=40, output_tokens=9, total_tokens=49)


@tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"sunny in {city}"


@tool
def failing_lookup(city: str) -> str:
    """Always fails."""
    raise LookupError(f"no data for {city}")


def scripted(*tool_names: str) -> ScriptedToolModel:
    calls = [
        {"name": name, "args": {"city": "Paris"}, "id": f"call_{i}"}
        for i, name in enumerate(tool_names)
    ]
    return ScriptedToolModel(
        responses=[
            AIMessage(content="", tool_calls=calls, usage_metadata=USAGE),
            AIMessage(content="It is sunny in Paris.", usage_metadata=USAGE),
        ]
    )


def test_agent_model_calls_and_tool_calls_nest_as_they_ran(db: Path) -> None:
    spyglass.autolog(db=db, integrations=["langchain"])
    agent = create_agent(scripted("get_weather"), tools=[get_weather], system_prompt="Be useful.")
    result = agent.invoke({"messages": [HumanMessage("Weather in Paris?")]})
    assert result["messages"][-1].content == "It is sunny in Paris."
    trace = only_trace(db)
    assert tree(trace) == [
        (0, "AGENT", "LangGraph"),
        (1, "CHAIN", "model"),
        (2, "LLM", "ScriptedToolModel"),
        (1, "CHAIN", "tools"),
        (2, "TOOL", "get_weather"),
        (1, "CHAIN", "model"),
        (2, "LLM", "ScriptedToolModel"),
    ]
    agent_span = trace.root
    assert agent_span is not None
    assert agent_span.attributes[A.GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert agent_span.attributes[A.GEN_AI_AGENT_NAME] == "LangGraph"
    first_llm, tool_span, second_llm = (s for s in trace.spans if s.kind in ("LLM", "TOOL"))
    (asked,) = attr_json(first_llm, A.GEN_AI_OUTPUT_MESSAGES)
    assert asked["parts"] == [
        {"type": "tool_call", "id": "call_0", "name": "get_weather", "arguments": {"city": "Paris"}}
    ]
    assert tool_span.attributes[A.GEN_AI_TOOL_CALL_ID] == "call_0"
    assert attr_json(tool_span, A.GEN_AI_TOOL_CALL_RESULT) == "sunny in Paris"
    second_input = attr_json(second_llm, A.GEN_AI_INPUT_MESSAGES)
    assert [m["role"] for m in second_input] == ["system", "user", "assistant", "tool"]
    assert second_input[-1]["parts"][0]["id"] == "call_0"
    assert (trace.summary.input_tokens, trace.summary.output_tokens) == (80, 18)


def test_named_agent_and_a_failing_tool(db: Path) -> None:
    spyglass.autolog(db=db, integrations=["langchain"])
    agent = create_agent(scripted("failing_lookup"), tools=[failing_lookup], name="city_bot")
    with pytest.raises(LookupError):
        agent.invoke({"messages": [HumanMessage("Weather in Paris?")]})
    trace = only_trace(db)
    assert trace.root is not None and trace.root.kind == "AGENT"
    assert trace.root.attributes[A.GEN_AI_AGENT_NAME] == "city_bot"
    tool_span = next(s for s in trace.spans if s.kind == "TOOL")
    assert tool_span.status == "ERROR" and tool_span.attributes[A.ERROR_TYPE] == "LookupError"
    assert trace.root.status == "ERROR"


def test_an_agent_inside_a_chain_is_still_the_agent(db: Path) -> None:
    spyglass.autolog(db=db, integrations=["langchain"])
    agent = create_agent(scripted("get_weather"), tools=[get_weather])
    with spyglass.trace("request"):
        agent.invoke({"messages": [HumanMessage("Weather in Paris?")]})
    trace = only_trace(db)
    agents = [s for s in trace.spans if s.kind == "AGENT"]
    assert trace.root is not None and trace.root.name == "request"
    assert len(agents) == 1 and agents[0].parent_id == trace.root.span_id
