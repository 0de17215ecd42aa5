"""A client for OpenAI-compatible chat endpoints (vLLM, llama.cpp server, hosted APIs).

Greedy (temperature 0), with timeouts, retries with exponential backoff for
connection errors, 429 and 5xx, and bounded concurrency for batches. Standard
library only.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

Message = dict[str, str]


class EndpointError(Exception):
    """The endpoint kept failing after the retries (or refused the request outright)."""


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
        concurrency: int = 4,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.key = model, os.environ.get(api_key_env, "")
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.max_tokens, self.concurrency = max_tokens, max(1, concurrency)

    def complete(self, messages: Sequence[Message]) -> str:
        """One reply.

        Raises:
            EndpointError: after the retries, with the last error.
        """
        body = json.dumps(
            {"model": self.model, "messages": list(messages), "temperature": 0, "max_tokens": self.max_tokens}
        ).encode()
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {self.key}"} if self.key else {})}
        last = ""
        for attempt in range(self.retries + 1):
            try:
                request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (user's URL)
                    return str(json.load(response)["choices"][0]["message"]["content"])
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}: {exc.read()[:200]!r}"
                if exc.code != 429 and exc.code < 500:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = str(exc)
            except (KeyError, IndexError, ValueError) as exc:
                last = f"unexpected response: {exc}"
                break
            if attempt < self.retries:
                time.sleep(self.backoff * 2**attempt)
        raise EndpointError(f"{self.url}: {last}")

    def complete_many(self, conversations: Sequence[Sequence[Message]]) -> list[str]:
        """Replies in order, with at most ``concurrency`` requests in flight."""
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self.complete, conversations))
