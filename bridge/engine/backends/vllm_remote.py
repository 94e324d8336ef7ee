"""A remote ``vllm serve`` (a studio's shared GPU server) as the daemon's backend, over its HTTP API.

The server runs the checkpoint with our logits processor (README: Running on
vLLM); the daemon stays on loopback for the DAW and sends each request to the
server's OpenAI-compatible ``/v1/completions`` with the prompt as ids, our
argument in ``vllm_xargs`` and ``return_token_ids``, streamed. Closing the
stream closes the connection, which makes the server abort the request. Only
the standard library is used: the daemon needs no vLLM for this.

What the server refuses becomes one sentence: a key it does not take (at the
load, or later when it was restarted with another key), its own message for
a request it refuses (vLLM sends errors as JSON, before the stream or inside
it: our logits processor's argument check comes inside), and a server
started with a shorter ``--max-model-len`` than the model's context (vLLM
refuses some of those requests with its own numbers and takes others, cut
short at its limit without our stop id), checked before each request.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

from bridge.engine.backends.vllm_requests import ARGUMENT, PROCESSOR, SegmentRequest


class RemoteVllmError(RuntimeError):
    """The server could not be reached or refused a request; the message says what to do."""


def error_message(body: bytes) -> str:
    """vLLM's own sentence from an error reply (``{"error": {"message": ...}}`` or ``{"error": "..."}``)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        error = json.loads(text).get("error", text)
    except (ValueError, AttributeError):
        return text[:400] or "no reason given"
    if isinstance(error, dict):
        error = error.get("message") or error
    return " ".join(str(error).split())[:400]


class RemoteVllm:
    """Talks to one ``vllm serve`` at ``url``; see the module docstring."""

    def __init__(self, url: str, *, api_key: str | None = None, timeout: float = 600.0):
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteVllmError(f"model.vllm_url {url!r} is not an http(s) URL such as http://gpu-box:8000")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base = parts.path.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.url = url
        self.model, self.max_model_len = self._served_model()
        self._check_processor()
        self.description = f"vllm server {url} ({self.model})"

    def _connection(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return kind(self.host, self.port, timeout=self.timeout)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _served_model(self) -> tuple[str, int | None]:
        connection = self._connection()
        try:
            connection.request("GET", f"{self.base}/v1/models", headers=self._headers())
            response = connection.getresponse()
            body = response.read()
        except OSError as error:
            raise RemoteVllmError(f"the vLLM server at {self.url} does not answer ({error}); start it (README: "
                                  "Running on vLLM) or fix model.vllm_url") from None
        finally:
            connection.close()
        if response.status == 401:
            raise self._key_refused()
        if response.status != 200:
            raise RemoteVllmError(f"the vLLM server at {self.url} answered {response.status} to /v1/models; is it a "
                                  "vllm serve?")
        models = json.loads(body).get("data") or []
        if not models:
            raise RemoteVllmError(f"the vLLM server at {self.url} serves no model")
        return models[0]["id"], models[0].get("max_model_len")

    def _check_processor(self) -> None:
        """A server started without ``--logits-processors`` ours would write outside the grammar: find out now.

        One request of one id whose argument is deliberately not ours: our processor's
        ``validate_params`` refuses it with its format sentence; a server without it just answers.
        """
        body = {"model": self.model, "prompt": [0], "max_tokens": 1, "temperature": 0.0,
                "vllm_xargs": {ARGUMENT: '{"format": -1}'}}
        connection = self._connection()
        try:
            connection.request("POST", f"{self.base}/v1/completions", body=json.dumps(body), headers=self._headers())
            response = connection.getresponse()
            answer = response.read(64_000)
        except OSError as error:
            raise RemoteVllmError(f"the vLLM server at {self.url} stopped answering ({error})") from None
        finally:
            connection.close()
        if response.status == 401:
            raise self._key_refused()
        if b"format -1" in answer:
            return  # our processor checked the argument: it is there
        raise RemoteVllmError(f"the vLLM server at {self.url} runs without midi-llm-bridge's logits processor, so "
                              f"its notes would break the grammar: start it with --logits-processors {PROCESSOR} "
                              "(README: Running on vLLM)")

    def _key_refused(self) -> RemoteVllmError:
        return RemoteVllmError(f"the vLLM server at {self.url} refused the API key; set model.vllm_api_key to the "
                               "key it was started with (--api-key)")

    def _refused(self, status: int, body: bytes) -> RemoteVllmError:
        if status == 401:
            return self._key_refused()
        return RemoteVllmError(f"the vLLM server at {self.url} refused the request ({status}): "
                               f"{error_message(body)}")

    def _check_context(self, request: SegmentRequest) -> None:
        """A request longer than the server's --max-model-len: vLLM refuses it or cuts it short without our stop id."""
        needed = len(request.prompt_ids) + request.max_tokens
        if self.max_model_len is not None and needed > self.max_model_len:
            raise RemoteVllmError(f"the vLLM server at {self.url} was started with --max-model-len "
                                  f"{self.max_model_len}, under the model's context of {needed} ids: start it with "
                                  f"--max-model-len {needed} (README: Running on vLLM)")

    def stream(self, request_id: str, request: SegmentRequest) -> Iterator[list[int]]:
        self._check_context(request)
        body = {
            "model": self.model, "prompt": request.prompt_ids, "max_tokens": request.max_tokens,
            "temperature": request.temperature, "top_p": request.top_p, "top_k": request.top_k or -1,
            "seed": request.seed, "stop_token_ids": [request.stop_id], "ignore_eos": True, "stream": True,
            "return_token_ids": True, "skip_special_tokens": False, "vllm_xargs": {ARGUMENT: request.argument},
            "user": request_id,
        }
        connection = self._connection()
        try:
            try:
                connection.request("POST", f"{self.base}/v1/completions", body=json.dumps(body),
                                   headers={**self._headers(), "X-Request-Id": request_id})
                response = connection.getresponse()
            except OSError as error:
                raise RemoteVllmError(f"the vLLM server at {self.url} stopped answering ({error})") from None
            if response.status != 200:
                raise self._refused(response.status, response.read(64_000))
            for line in response:
                line = line.strip()
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    return
                chunk = json.loads(data)
                if "error" in chunk:  # a request vLLM took, then refused (our processor's argument check)
                    raise RemoteVllmError(f"the vLLM server at {self.url} refused the request: "
                                          f"{error_message(data)}")
                for choice in chunk.get("choices", []):
                    ids = choice.get("token_ids")
                    if ids:
                        yield list(ids)
        finally:
            connection.close()  # an unfinished request is aborted by the server when the connection closes

    def close(self) -> None:
        return None
