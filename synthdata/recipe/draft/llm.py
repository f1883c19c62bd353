"""Drafting through an OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server, ...).

POST {url}/v1/chat/completions with the recipe JSON Schema as `response_format` (json_schema);
the answer is written as YAML and validated by the normal loader; validation problems go back to
the model for up to `retries` more tries. Standard library only (urllib): no client package.
The API key, when the endpoint needs one, comes from the environment variable
SYNTHDATA_LLM_API_KEY (or OPENAI_API_KEY), never from the command line.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from synthdata.errors import RecipeError

KEY_VARIABLES = ("SYNTHDATA_LLM_API_KEY", "OPENAI_API_KEY")
SYSTEM = (
    "You write recipes for synthdata, a generator of labelled surveillance (CCTV) video. Answer with one "
    "JSON object that follows the given JSON Schema exactly: no prose, no unknown keys. Every recipe has "
    "version 1, a name (letters, digits, '-' or '_'), a seed and output {clips, frames_per_clip, fps, "
    "resolution: [W, H]}. Wherever a number or a choice may vary you may write a distribution such as "
    "{\"uniform\": [a, b]}, {\"randint\": [a, b]} or {\"choice\": [...]}. Security scenarios that name "
    "zones need those zones in `zones`; layout regions: parking_lot: lot, walkway, aisle0; street: plaza, "
    "road, lane_eastbound0; indoor: floor, entrance.")


class LLMFailed(Exception):
    """The endpoint could not give a valid recipe; the message says why (one line)."""


@dataclass
class LLMDraft:
    data: dict[str, Any]
    text: str                       # the recipe YAML that validated
    tries: int
    problems: list[str] = field(default_factory=list)   # validation problems of earlier tries


def api_key() -> str | None:
    return next((os.environ[k] for k in KEY_VARIABLES if os.environ.get(k)), None)


def chat(url: str, model: str, messages: list[dict], schema: dict, *, timeout: float) -> str:
    """One chat completion; returns the assistant message's content."""
    endpoint = url.rstrip("/")
    if not endpoint.endswith("/chat/completions"):
        endpoint += "/chat/completions" if endpoint.endswith("/v1") else "/v1/chat/completions"
    body = {"model": model, "messages": messages, "temperature": 0,
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": "synthdata_recipe", "schema": schema, "strict": False}}}
    headers = {"Content-Type": "application/json"}
    key = api_key()
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(endpoint, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:   # noqa: S310 - user's endpoint
            reply = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        raise LLMFailed(f"{endpoint}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise LLMFailed(f"{endpoint}: cannot reach the endpoint ({reason})") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise LLMFailed(f"{endpoint}: the answer is not JSON") from None
    try:
        content = reply["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LLMFailed(f"{endpoint}: no choices[0].message.content in the answer") from None
    if not isinstance(content, str):
        raise LLMFailed(f"{endpoint}: the message content is not text")
    return content


def draft_with_llm(text: str, url: str, model: str, *, retries: int = 2, timeout: float = 120.0,
                   base_yaml: str | None = None) -> LLMDraft:
    """Ask the endpoint for a recipe; feed validation problems back up to `retries` times."""
    from synthdata.recipe.draft.writer import dump
    from synthdata.recipe.loader import load_recipe
    from synthdata.recipe.schema import recipe_json_schema

    schema = recipe_json_schema()
    ask = f"Write a synthdata recipe for: {text}"
    if base_yaml is not None:
        ask += ("\nStart from this recipe and change only what the description asks for; keep every other "
                f"value:\n{base_yaml}")
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": ask}]
    problems: list[str] = []
    for attempt in range(1, retries + 2):
        content = chat(url, model, messages, schema, timeout=timeout)
        messages.append({"role": "assistant", "content": content})
        try:
            data = json.loads(_strip_fence(content))
        except json.JSONDecodeError as e:
            problem = [f"the answer is not a JSON object ({e.msg} at line {e.lineno})"]
        else:
            if not isinstance(data, dict):
                problem = ["the answer must be one JSON object (a recipe mapping)"]
            else:
                yaml_text = dump(data)
                try:
                    load_recipe(yaml_text, source="answer")
                    return LLMDraft(data, yaml_text, attempt, problems)
                except RecipeError as e:
                    problem = e.problems
        problems += problem
        messages.append({"role": "user", "content": "That recipe is not valid:\n" + "\n".join(problem)
                         + "\nAnswer with the whole corrected recipe as one JSON object."})
    raise LLMFailed(f"no valid recipe after {retries + 1} tries; last problem: {problems[-1]}")


def _strip_fence(content: str) -> str:
    """Some servers wrap JSON in ```json fences despite the response format."""
    s = content.strip()
    if s.startswith("```"):
        s = s.split("\n", 1)[1] if "\n" in s else ""
        s = s.rsplit("```", 1)[0]
    return s
