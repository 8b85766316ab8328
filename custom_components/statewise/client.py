"""Small async client for an OpenAI-compatible model server.

Runs on Home Assistant's shared aiohttp session
(:func:`homeassistant.helpers.aiohttp_client.async_get_clientsession`).
Only two endpoints are used: ``GET /v1/models`` and
``POST /v1/chat/completions``. Every failure is one of the typed exceptions
below, so callers never see raw aiohttp errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from .const import DEFAULT_MAX_TOKENS, DEFAULT_REQUEST_TIMEOUT, GRAMMAR_GBNF, GRAMMAR_VLLM
from .protocol import CHAT_TEMPLATE_KWARGS
from .protocol.grammar import v0_grammar


class StatewiseClientError(Exception):
    """Base class of every client error."""


class ServerDownError(StatewiseClientError):
    """The server could not be reached (connection refused, DNS, reset)."""


class ServerTimeoutError(StatewiseClientError):
    """The server did not answer within the request timeout."""


class ServerHTTPError(StatewiseClientError):
    """The server answered with an HTTP error status."""

    def __init__(self, status: int, message: str = "") -> None:
        """Keep the status for callers."""
        self.status = status
        super().__init__(f"HTTP {status}: {message}" if message else f"HTTP {status}")


class AuthenticationError(ServerHTTPError):
    """The server rejected the API key (HTTP 401 or 403)."""


class BadResponseError(StatewiseClientError):
    """The server answered 2xx but the body is not what the API promises."""


@dataclass(frozen=True, slots=True)
class ChatResult:
    """One chat completion: the assistant text and the server's bookkeeping."""

    content: str
    finish_reason: str | None
    usage: dict[str, Any]
    model: str | None


def grammar_fields(style: str) -> dict[str, Any]:
    """The request fields that carry the v0 grammar in the server's own dialect (none for ``off``)."""
    if style == GRAMMAR_GBNF:
        return {"grammar": v0_grammar()}  # llama.cpp (llama-server, llama-cpp-python)
    if style == GRAMMAR_VLLM:
        return {"structured_outputs": {"grammar": v0_grammar()}}  # vLLM >= 0.12 (xgrammar reads GBNF)
    return {}


def normalize_base_url(url: str) -> str:
    """``http://host:8000/v1/`` and ``http://host:8000`` both -> ``http://host:8000``."""
    url = url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    return url


class StatewiseClient:
    """OpenAI-compatible client bound to one base URL, model and API key."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str | None = None,
        model: str | None = None,
    ) -> None:
        """Initialise; nothing is sent until a method is called."""
        self._session = session
        self.base_url = normalize_base_url(base_url)
        self.api_key = api_key or None
        self.model = model

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    async def _request(
        self, method: str, path: str, timeout: float, payload: Mapping[str, Any] | None = None
    ) -> Any:
        url = f"{self.base_url}{path}"
        try:
            async with asyncio.timeout(timeout):
                async with self._session.request(
                    method, url, json=payload, headers=self._headers()
                ) as resp:
                    if resp.status in (401, 403):
                        raise AuthenticationError(resp.status, resp.reason or "")
                    if resp.status >= 400:
                        # Raw bytes: an error body need not be valid text in its charset.
                        text = (await resp.read())[:200].decode("utf-8", "replace")
                        raise ServerHTTPError(resp.status, text or (resp.reason or ""))
                    try:
                        return await resp.json(content_type=None)
                    except (ValueError, LookupError, RecursionError, aiohttp.ContentTypeError) as err:
                        raise BadResponseError(f"{path}: body is not JSON") from err
        except TimeoutError as err:
            raise ServerTimeoutError(f"{path}: no answer within {timeout:g} s") from err
        except (aiohttp.ClientConnectionError, OSError) as err:
            # ClientConnectorError, ServerDisconnectedError, ClientOSError...
            raise ServerDownError(f"{url}: {err}") from err
        except aiohttp.ClientError as err:
            raise BadResponseError(f"{path}: {err}") from err

    async def async_list_models(self, timeout: float = DEFAULT_REQUEST_TIMEOUT) -> list[str]:
        """Model ids from ``GET /v1/models`` (sorted, de-duplicated)."""
        body = await self._request("GET", "/v1/models", timeout)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise BadResponseError("/v1/models: no 'data' list")
        ids = {item["id"] for item in data if isinstance(item, dict) and isinstance(item.get("id"), str)}
        return sorted(ids)

    async def async_chat(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        model: str | None = None,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> ChatResult:
        """One chat completion: temperature 0, bounded ``max_tokens``, thinking off (``extra_fields``: e.g. :func:`grammar_fields`)."""
        payload: dict[str, Any] = {
            "model": model or self.model,
            "messages": [dict(m) for m in messages],
            "temperature": 0,
            "max_tokens": max_tokens,
            "stream": False,
            "chat_template_kwargs": dict(CHAT_TEMPLATE_KWARGS),
        }
        payload.update(extra_fields or {})
        body = await self._request("POST", "/v1/chat/completions", timeout, payload)
        try:
            choice = body["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError) as err:
            raise BadResponseError("/v1/chat/completions: no choices[0].message.content") from err
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise BadResponseError("/v1/chat/completions: content is not a string")
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        model_name = body.get("model") if isinstance(body.get("model"), str) else None
        return ChatResult(content, choice.get("finish_reason"), usage, model_name)
