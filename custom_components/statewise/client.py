"""Small async client for an OpenAI-compatible model server.

Runs on Home Assistant's shared aiohttp session
(:func:`homeassistant.helpers.aiohttp_client.async_get_clientsession`).
Only two endpoints are used: ``GET /v1/models`` and
``POST /v1/chat/completions``. Every failure is one of the typed exceptions
below, so callers never see raw aiohttp errors.

The server is not trusted (``docs/SECURITY.md``): a body larger than
:data:`MAX_RESPONSE_BYTES` is refused without reading the rest, redirects are
not followed (a 3xx would re-post the whole prompt elsewhere), a base URL with
credentials is refused, and no error text names anything but the redacted URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .const import DEFAULT_MAX_TOKENS, DEFAULT_REQUEST_TIMEOUT, GRAMMAR_GBNF, GRAMMAR_VLLM
from .protocol import CHAT_TEMPLATE_KWARGS
from .protocol.canonical import strict_loads
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
    """The server answered 2xx but the body is not what the API promises (or is too large)."""


class InvalidURLError(StatewiseClientError):
    """The base URL cannot be used (it carries credentials, or is not http(s))."""


# A chat answer is at most a few KB (256 tokens); a model list a few hundred entries.
MAX_RESPONSE_BYTES = 1 << 20
_READ_CHUNK = 64 * 1024


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


def has_credentials(url: str) -> bool:
    """True when ``url`` carries a user name or password (``http://user:pass@host``)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return True  # unreadable: fail closed (never sent, never shown)
    return parts.username is not None or parts.password is not None or "@" in parts.netloc


def redact_url(url: str) -> str:
    """``url`` without any user name or password, for error texts and logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    return parts._replace(netloc=f"{host}{port}").geturl()


async def read_capped(resp: aiohttp.ClientResponse, limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """The body, refused as :class:`BadResponseError` once it passes ``limit`` bytes (never read whole first)."""
    declared = resp.content_length
    if declared is not None and declared > limit:
        raise BadResponseError(f"response of {declared} bytes is larger than {limit}")
    body = bytearray()
    while chunk := await resp.content.read(_READ_CHUNK):
        body += chunk
        if len(body) > limit:
            raise BadResponseError(f"response larger than {limit} bytes")
    return bytes(body)


def _parse_json(body: bytes, path: str) -> Any:
    """A JSON body; anything Python's JSON cannot represent safely (NaN, deep nesting, huge integers) is refused."""
    try:
        return strict_loads(body.decode("utf-8"))
    except (ValueError, RecursionError, UnicodeDecodeError) as err:
        raise BadResponseError(f"{path}: body is not JSON ({type(err).__name__})") from None


def adapter_fields(adapter: int | None) -> dict[str, Any]:
    """llama-server's per-request LoRA choice: only adapter ``adapter`` at scale 1 (the server sets the others to 0); none for ``None``."""
    return {} if adapter is None else {"lora": [{"id": int(adapter), "scale": 1.0}]}


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
        # What error texts and logs may show of the URL (the flow refuses credentials; older entries may hold some).
        self.redacted_url = redact_url(self.base_url)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "Accept-Encoding": "identity"}  # the size cap is on what the server sends
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    async def _request(
        self, method: str, path: str, timeout: float, payload: Mapping[str, Any] | None = None
    ) -> Any:
        if has_credentials(self.base_url):
            raise InvalidURLError(f"{self.redacted_url}: the base URL carries credentials; put the key in the API key field")
        url = f"{self.base_url}{path}"
        shown = f"{self.redacted_url}{path}"
        try:
            async with asyncio.timeout(timeout):
                async with self._session.request(
                    method, url, json=payload, headers=self._headers(), allow_redirects=False
                ) as resp:
                    if resp.status in (401, 403):
                        raise AuthenticationError(resp.status, resp.reason or "")
                    if 300 <= resp.status < 400:
                        raise ServerHTTPError(resp.status, "redirect not followed (the prompt is sent to this server only)")
                    if resp.status >= 400:
                        # Raw bytes, at most 200 read: an error body need not be valid text, nor small.
                        text = (await resp.content.read(200)).decode("utf-8", "replace")
                        raise ServerHTTPError(resp.status, text or (resp.reason or ""))
                    return _parse_json(await read_capped(resp), path)
        except TimeoutError as err:
            raise ServerTimeoutError(f"{path}: no answer within {timeout:g} s") from err
        except (aiohttp.ClientConnectionError, OSError) as err:
            # ClientConnectorError, ServerDisconnectedError, ClientOSError...: name the redacted URL and the error's kind.
            # (no credentials can be in them: a URL with credentials never gets this far)
            raise ServerDownError(f"{shown}: {str(err)[:200] or type(err).__name__}") from None
        except aiohttp.ClientError as err:
            raise BadResponseError(f"{path}: {str(err)[:200] or type(err).__name__}") from None
        except ValueError as err:  # aiohttp refuses some URLs (credentials with an Authorization header...)
            raise InvalidURLError(f"{shown}: {type(err).__name__}") from None

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
