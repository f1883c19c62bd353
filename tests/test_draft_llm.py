"""`synthdata draft --llm`: an OpenAI-compatible endpoint faked by a local http.server on 127.0.0.1."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from synthdata.recipe import load_recipe
from synthdata.recipe.draft.llm import LLMFailed, draft_with_llm

VALID = {"version": 1, "name": "llm_night_lot", "seed": 3,
         "output": {"clips": 4, "frames_per_clip": 20, "fps": 10, "resolution": [320, 240]},
         "scene": {"layout": {"type": "parking_lot"}, "lighting": {"time_of_day": "night"},
                   "weather": {"condition": "rain", "rain_intensity": {"uniform": [0.2, 0.4]}}},
         "actors": [{"type": "person", "count": {"randint": [1, 3]}, "behavior": "loiter"}]}
INVALID = json.loads(json.dumps(VALID))
INVALID["output"]["clips"] = 0                      # clips must be >= 1
INVALID["scene"]["camera"] = {"heigth_m": 5}        # a misspelt key


class FakeChat:
    """Answers POST /v1/chat/completions with the scripted contents in turn; records requests."""

    def __init__(self, answers: list):
        self.answers, self.requests = list(answers), []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "body": body,
                                      "auth": self.headers.get("Authorization")})
                answer = fake.answers.pop(0) if fake.answers else VALID
                if isinstance(answer, int):
                    self.send_response(answer)
                    self.end_headers()
                    return
                content = answer if isinstance(answer, str) else json.dumps(answer)
                reply = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(reply.encode())

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_first_invalid_answer_is_repaired_from_the_validation_error(monkeypatch):
    monkeypatch.setenv("SYNTHDATA_LLM_API_KEY", "sk-test-123")
    with FakeChat([INVALID, VALID]) as fake:
        answer = draft_with_llm("night car park in the rain, people loitering", fake.url, "tiny-model",
                                retries=2, timeout=10)
    assert answer.tries == 2
    assert load_recipe(answer.text).name == "llm_night_lot"
    first, second = fake.requests
    assert first["path"] == "/v1/chat/completions" and first["auth"] == "Bearer sk-test-123"
    body = first["body"]
    assert body["model"] == "tiny-model"
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and "$defs" in fmt["json_schema"]["schema"]
    assert "night car park" in body["messages"][-1]["content"]
    feedback = second["body"]["messages"][-1]["content"]
    assert "output.clips" in feedback and "heigth_m" in feedback     # the loader's own messages
    assert second["body"]["messages"][-2]["role"] == "assistant"
    assert any("output.clips" in p for p in answer.problems)


def test_gives_up_after_the_retries():
    with FakeChat([INVALID, "not json at all", INVALID]) as fake:
        with pytest.raises(LLMFailed, match="no valid recipe after 3 tries"):
            draft_with_llm("x", fake.url, "m", retries=2, timeout=10)
    assert len(fake.requests) == 3


def test_http_error_and_fenced_json():
    with FakeChat([500]) as fake:
        with pytest.raises(LLMFailed, match="HTTP 500"):
            draft_with_llm("x", fake.url, "m", retries=0, timeout=10)
    with FakeChat(["```json\n" + json.dumps(VALID) + "\n```"]) as fake:
        assert draft_with_llm("x", fake.url + "/v1", "m", retries=0, timeout=10).tries == 1


def test_cli_uses_the_endpoint_and_says_what_it_repaired(tmp_path, capsys, monkeypatch):
    from synthdata.cli import main

    monkeypatch.delenv("SYNTHDATA_LLM_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    out = tmp_path / "r.yaml"
    with FakeChat([INVALID, VALID]) as fake:
        with pytest.raises(SystemExit) as e:
            main(["draft", "night lot", "--llm", fake.url, "--model", "m", "--out", str(out)])
    assert e.value.code == 0
    assert fake.requests[0]["auth"] is None
    err = capsys.readouterr().err
    assert "llm: repaired after:" in err
    text = out.read_text()
    assert "model m, 2 tries" in text and load_recipe(out).name == "llm_night_lot"


def test_cli_falls_back_to_the_rule_based_draft(tmp_path, capsys, monkeypatch):
    from synthdata.cli import main

    with FakeChat([INVALID, INVALID]) as fake:
        with pytest.raises(SystemExit) as e:
            main(["draft", "night car park, light rain", "--llm", fake.url, "--model", "m", "--llm-retries", "1"])
    assert e.value.code == 0
    out, err = capsys.readouterr()
    assert "falling back to the rule-based draft" in err
    assert "(rule-based)" in out and load_recipe(out).scene.lighting.time_of_day.args == ("night",)


def test_cli_falls_back_when_nothing_listens(capsys):
    import socket

    from synthdata.cli import main

    with socket.socket() as s:           # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SystemExit) as e:
        main(["draft", "street at dusk", "--llm", f"http://127.0.0.1:{port}", "--model", "m",
              "--llm-timeout", "5"])
    assert e.value.code == 0
    out, err = capsys.readouterr()
    assert "cannot reach the endpoint" in err and "falling back" in err
    assert load_recipe(out).scene.layout.type.args == ("street",)
