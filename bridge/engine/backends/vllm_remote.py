"""A remote ``vllm serve`` (a studio's shared GPU server) as the daemon's backend, over its HTTP API.

The server runs the checkpoint with our logits processor (README: Running on
vLLM); the daemon stays on loopback for the DAW and sends each request to the
server's OpenAI-compatible ``/v1/completions`` with the prompt as ids, our
argument in ``vllm_xargs`` and ``return_token_ids``, streamed. Closing the
stream closes the connection, which makes the server abort the request. Only
the standard library is used: the daemon needs no vLLM for this.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

from bridge.engine.backends.vllm_requests import ARGUMENT, SegmentRequest


class RemoteVllmError(RuntimeError):
    """The server could not be reached or refused a request; the message says what to do."""


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
            raise RemoteVllmError(f"the vLLM server at {self.url} refused the API key; set model.vllm_api_key to the "
                                  "key it was started with (--api-key)")
        if response.status != 200:
            raise RemoteVllmError(f"the vLLM server at {self.url} answered {response.status} to /v1/models; is it a "
                                  "vllm serve?")
        models = json.loads(body).get("data") or []
        if not models:
            raise RemoteVllmError(f"the vLLM server at {self.url} serves no model")
        return models[0]["id"], models[0].get("max_model_len")

    def stream(self, request_id: str, request: SegmentRequest) -> Iterator[list[int]]:
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
                detail = response.read()[:400].decode("utf-8", "replace")
                raise RemoteVllmError(f"the vLLM server at {self.url} refused the request ({response.status}: "
                                      f"{detail}); was it started with our logits processor?")
            for line in response:
                line = line.strip()
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    return
                chunk = json.loads(data)
                if "error" in chunk:
                    raise RemoteVllmError(f"the vLLM server at {self.url} failed: {chunk['error']}")
                for choice in chunk.get("choices", []):
                    ids = choice.get("token_ids")
                    if ids:
                        yield list(ids)
        finally:
            connection.close()  # an unfinished request is aborted by the server when the connection closes

    def close(self) -> None:
        return None
