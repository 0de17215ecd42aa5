"""A client for OpenAI-compatible chat endpoints (vLLM, llama.cpp server, hosted APIs).

Greedy by default (temperature 0), with timeouts; retries with exponential backoff
and jitter for connection errors, timeouts, 429 and 5xx; a fast, clear failure for
any other 4xx (with the server's own message) and for malformed JSON; bounded
concurrency for batches; and an optional on-disk response cache so a resumed or
repeated run never pays twice. Standard library only. The API key is read from the
environment variable the caller names and is never part of a cache key or an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

Message = dict[str, Any]
"""One chat message: ``role`` and ``content`` (a string, or a list of content parts)."""


class EndpointError(Exception):
    """The endpoint kept failing after the retries (or refused the request outright)."""


SECRET_NAME = re.compile(
    r"(^|[_-])(api[_-]?key|key|token|secret|password|passwd|auth|authorization|sig|signature)($|[_-])", re.IGNORECASE
)
"""Names of arguments and query parameters that hold credentials (``api_key``, ``access_token``, ``sig``...)."""


def url_secret_problem(url: str) -> str | None:
    """Why ``url`` must not be recorded (a password or a key in it), or None.

    URLs are written into run headers and shown on the board, so credentials belong in
    an environment variable (``--judge-key-env``, ``llm_key_env``), never in the URL.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        return "it holds a password (user:password@host)"
    secret = [k for k, _ in urllib.parse.parse_qsl(parts.query) if SECRET_NAME.search(k)]
    if secret:
        return f"its query holds {secret[0]}="
    return None


def secret_argument_problem(args: Mapping[str, str]) -> str | None:
    """Why adapter arguments must not be recorded (a key in a name or a URL), or None."""
    for key, value in args.items():
        secret = SECRET_NAME.search(key) and not key.endswith("_env")
        if secret or (problem := url_secret_problem(value)):
            why = "looks like a secret" if secret else problem
            return (
                f"--model-arg {key}: {why}; arguments are recorded in model.json and run headers, "
                "so keys go in an environment variable named by a *_env argument (e.g. llm_key_env=NAME)"
            )
    return None


class ResponseCache:
    """Replies on disk, one small JSON file per request hash (written by rename, so safe across threads)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @staticmethod
    def key(url: str, body: dict[str, Any]) -> str:
        """A hash of the server's URL and the whole request: model, messages (audio included), parameters.

        The URL is part of it because two servers often serve different weights under
        one model name (vLLM's ``--served-model-name``, proxies, local ports).
        """
        request = json.dumps({"url": url, "body": body}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(request.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        """The stored reply, or None."""
        try:
            return str(json.loads(self._path(key).read_text(encoding="utf-8"))["reply"])
        except (OSError, ValueError, KeyError):
            return None

    def put(self, key: str, reply: str) -> None:
        """Store a reply."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{random.getrandbits(32)}.tmp")
        tmp.write_text(json.dumps({"reply": reply}), encoding="utf-8")
        os.replace(tmp, path)


def _server_message(exc: urllib.error.HTTPError) -> str:
    """The error text a server sent (OpenAI style ``{"error": {"message": ...}}`` or the raw body)."""
    raw = exc.read()[:500].decode("utf-8", "replace")
    try:
        error = json.loads(raw).get("error", raw)
        return str(error.get("message", error) if isinstance(error, dict) else error)
    except (ValueError, AttributeError):
        return raw.strip() or exc.reason


def _reply_text(raw: bytes) -> str:
    """The assistant text of a chat-completions response.

    Raises:
        EndpointError: the body is not JSON or has no ``choices[0].message.content``.
    """
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise EndpointError(f"the server returned malformed JSON ({exc}): {raw[:120]!r}") from exc
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise EndpointError(f"the server's JSON has no choices[0].message.content: {str(data)[:160]}") from exc
    return "" if content is None else str(content)


class ChatEndpoint:
    """``POST {base_url}/chat/completions`` with the model name and an optional bearer key from the environment."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 60.0,
        retries: int = 4,
        backoff: float = 1.0,
        max_tokens: int = 64,
        temperature: float = 0.0,
        concurrency: int = 4,
        cache: ResponseCache | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self._key = model, os.environ.get(api_key_env, "")
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.max_tokens, self.temperature, self.concurrency = max_tokens, temperature, max(1, concurrency)
        self.cache = cache

    def body(self, messages: Sequence[Message]) -> dict[str, Any]:
        """The JSON request for one conversation."""
        return {
            "model": self.model,
            "messages": list(messages),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }

    def complete(self, messages: Sequence[Message]) -> str:
        """One reply (from the cache when this exact request was answered before).

        Raises:
            EndpointError: after the retries, a refused request, or a malformed response.
        """
        body = self.body(messages)
        key = ResponseCache.key(self.url, body) if self.cache else ""
        if self.cache and (hit := self.cache.get(key)) is not None:
            return hit
        reply = self._post(json.dumps(body).encode())
        if self.cache:
            self.cache.put(key, reply)
        return reply

    def read(self, raw: bytes) -> str:
        """What is kept of a successful reply: its text (a subclass may keep other parts, e.g. spoken audio)."""
        return _reply_text(raw)

    def _post(self, data: bytes) -> str:
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        last = ""
        for attempt in range(self.retries + 1):
            try:
                request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (user's URL)
                    return self.read(response.read())
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}: {_server_message(exc)}"
                if exc.code != 429 and exc.code < 500:
                    raise EndpointError(f"{self.url} refused the request ({last})") from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = str(getattr(exc, "reason", exc))
            if attempt < self.retries:
                # Full jitter: concurrent workers that failed together do not retry together.
                time.sleep(random.uniform(0, self.backoff * 2**attempt))
        message = f"{self.url}: {last} (after {self.retries + 1} tries)"
        raise EndpointError(message.replace(self._key, "***") if self._key else message)  # a server may echo the key

    def complete_many(self, conversations: Sequence[Sequence[Message]]) -> list[str]:
        """Replies in order, with at most ``concurrency`` requests in flight."""
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self.complete, conversations))
