"""Async Omise API client on one shared :class:`httpx.AsyncClient`."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Literal, TypeVar

import httpx
from pydantic import BaseModel, SecretStr
from pydantic import ValidationError as ModelError

from linkbot import __version__, tls
from linkbot.omise.errors import (
    AuthenticationError,
    CreateOutcomeUnknown,
    NotFoundError,
    OmiseConnectionError,
    OmiseError,
    OmiseTimeout,
    RateLimitError,
    ServerError,
    UnexpectedResponse,
    ValidationError,
)
from linkbot.omise.models import Charge, DeletedLink, ErrorBody, Event, Link, OmiseList

logger = logging.getLogger(__name__)

API_VERSION = "2019-05-29"
DEFAULT_API_URL = "https://api.omise.co"
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=5.0)
MAX_LIST_LIMIT = 100

_M = TypeVar("_M", bound=BaseModel)
_LinkList = OmiseList[Link]
_ChargeList = OmiseList[Charge]
_EventList = OmiseList[Event]
Order = Literal["chronological", "reverse_chronological"]
# "always": the call is safe to repeat (GET, DELETE). "before_send": it is
# not (POST /links), so only a failure that proves nothing was sent is retried.
_RetryPolicy = Literal["always", "before_send"]


class OmiseClient:
    """The Omise calls linkbot makes: links, their charges, charges.

    One client holds one connection pool; share it and close it with
    :meth:`aclose` (or ``async with``).
    """

    def __init__(
        self,
        secret_key: SecretStr | str,
        *,
        base_url: str = DEFAULT_API_URL,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 30.0,
        max_connections: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_response: Callable[[str, str, float], None] | None = None,
    ) -> None:
        """``on_response(route, status, seconds)`` hears of every attempt: the route as a
        template (``GET /links/{id}``), the status code or the transport error's name."""
        key = secret_key if isinstance(secret_key, SecretStr) else SecretStr(secret_key)
        self._livemode = not key.get_secret_value().startswith("skey_test_")
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._on_response = on_response
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            auth=httpx.BasicAuth(key.get_secret_value(), ""),
            headers={
                "Omise-Version": API_VERSION,
                "User-Agent": f"linkbot/{__version__} httpx/{httpx.__version__}",
                "Accept": "application/json",
            },
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            transport=transport,
            verify=tls.client_context(),
        )

    def __repr__(self) -> str:
        return f"OmiseClient(base_url={str(self._http.base_url)!r}, livemode={self._livemode})"

    @property
    def livemode(self) -> bool:
        """Whether the key is a live key (``skey_...``) rather than a test key."""
        return self._livemode

    async def __aenter__(self) -> OmiseClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # Links

    async def create_link(
        self, *, amount: int, currency: str, title: str, description: str, multiple: bool = False
    ) -> Link:
        """``POST /links``. Never resent once it may have reached Omise.

        Raises :class:`CreateOutcomeUnknown` when it may have created a link
        but no answer says so.
        """
        data = {
            "amount": str(amount),
            "currency": currency.lower(),
            "title": title,
            "description": description,
            "multiple": "true" if multiple else "false",
        }
        try:
            body = await self._request("POST", "/links", data=data, retry="before_send")
            return _parse(Link, body)
        except (OmiseTimeout, OmiseConnectionError, ServerError, UnexpectedResponse) as exc:
            # A 5xx or a garbled 200 may still have created the link.
            if exc.request_sent:
                raise CreateOutcomeUnknown(exc) from exc
            raise

    async def retrieve_link(self, link_id: str) -> Link:
        return _parse(Link, await self._request("GET", f"/links/{_path_id(link_id)}"))

    async def list_links(
        self,
        *,
        from_: datetime | None = None,
        to: datetime | None = None,
        offset: int = 0,
        limit: int = 20,
        order: Order = "chronological",
    ) -> OmiseList[Link]:
        return await self._list(_LinkList, "/links", from_, to, offset, limit, order)

    async def destroy_link(self, link_id: str) -> Link | DeletedLink:
        """``DELETE /links/{id}``: the full link on 2019-05-29, four fields on older versions."""
        content = await self._request("DELETE", f"/links/{_path_id(link_id)}")
        try:
            return _parse(Link, content)
        except UnexpectedResponse:
            return _parse(DeletedLink, content)

    async def list_link_charges(
        self, link_id: str, *, offset: int = 0, limit: int = 20, order: Order = "chronological"
    ) -> OmiseList[Charge]:
        params = _list_params(None, None, offset, limit, order)
        path = f"/links/{_path_id(link_id)}/charges"
        return _parse(_ChargeList, await self._request("GET", path, params=params))

    async def link_charge_pages(
        self, link_id: str, *, order: Order = "chronological"
    ) -> AsyncIterator[OmiseList[Charge]]:
        """Every charge of a link, a page (Omise's largest, 100) at a time."""
        seen = 0
        while True:
            page = await self.list_link_charges(
                link_id, offset=seen, limit=MAX_LIST_LIMIT, order=order
            )
            yield page
            seen += len(page.data)
            if not page.data or seen >= page.total:
                return

    async def retrieve_charge(self, charge_id: str) -> Charge:
        return _parse(Charge, await self._request("GET", f"/charges/{_path_id(charge_id)}"))

    async def list_charges(
        self,
        *,
        from_: datetime | None = None,
        to: datetime | None = None,
        offset: int = 0,
        limit: int = 20,
        order: Order = "chronological",
    ) -> OmiseList[Charge]:
        """``GET /charges``: every charge on the account, by creation time."""
        return await self._list(_ChargeList, "/charges", from_, to, offset, limit, order)

    # Events

    async def list_events(
        self,
        *,
        from_: datetime | None = None,
        to: datetime | None = None,
        offset: int = 0,
        limit: int = 20,
        order: Order = "chronological",
    ) -> OmiseList[Event]:
        """``GET /events``: every event on the account, in the account's default API version."""
        return await self._list(_EventList, "/events", from_, to, offset, limit, order)

    async def _list(
        self,
        model: type[_M],
        path: str,
        from_: datetime | None,
        to: datetime | None,
        offset: int,
        limit: int,
        order: Order,
    ) -> _M:
        params = _list_params(from_, to, offset, limit, order)
        return _parse(model, await self._request("GET", path, params=params))

    # Transport

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        retry: _RetryPolicy = "always",
    ) -> bytes:
        """The body of a 200 answer; an :class:`OmiseError` for anything else."""
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                response = await self._http.request(method, path, params=params, data=data)
            except httpx.TransportError as exc:
                error = _transport_error(exc)
                if self._on_response is not None:
                    self._on_response(
                        _route(method, path), type(error).__name__, time.perf_counter() - started
                    )
            else:
                elapsed = time.perf_counter() - started
                if self._on_response is not None:
                    self._on_response(_route(method, path), str(response.status_code), elapsed)
                logger.debug(
                    "Omise %s %s -> %s in %.3fs", method, path, response.status_code, elapsed
                )
                if response.status_code == 200:
                    return response.content
                error = _status_error(response)

            if retry == "before_send":
                retryable = not error.request_sent
            else:
                retryable = isinstance(
                    error, (RateLimitError, ServerError, OmiseTimeout, OmiseConnectionError)
                )
            delay = self._delay(attempt, error)
            if not retryable or attempt >= self._max_attempts or delay is None:
                raise error
            logger.warning(
                "Omise %s %s failed (%s); retry %d/%d in %.1fs",
                method,
                path,
                type(error).__name__,
                attempt,
                self._max_attempts - 1,
                delay,
            )
            await self._sleep(delay)

    def _delay(self, attempt: int, error: OmiseError) -> float | None:
        delay = min(self._max_backoff, self._backoff * 2.0 ** (attempt - 1))
        delay *= random.uniform(0.5, 1.0)  # jitter: many bots must not retry in step
        retry_after = error.retry_after if isinstance(error, RateLimitError) else None
        if retry_after is not None:
            if retry_after > self._max_retry_after:
                return None
            delay = max(delay, retry_after)
        return delay


def _route(method: str, path: str) -> str:
    """``GET /links/{id}/charges`` for ``GET /links/link_test_1/charges``.

    Omise paths alternate collection and id, so every second segment is an
    id; a metric labelled by raw ids would grow without end.
    """
    segments = path.strip("/").split("/")
    template = "/".join(s if i % 2 == 0 else "{id}" for i, s in enumerate(segments))
    return f"{method} /{template}"


def _path_id(object_id: str) -> str:
    # Ids come from users; keep them from walking the URL path.
    return urllib.parse.quote(object_id, safe="")


def _list_params(
    from_: datetime | None, to: datetime | None, offset: int, limit: int, order: Order
) -> dict[str, str]:
    params = {
        "offset": str(max(0, offset)),
        "limit": str(min(max(1, limit), MAX_LIST_LIMIT)),
        "order": order,
    }
    if from_ is not None:
        params["from"] = _iso(from_)
    if to is not None:
        params["to"] = _iso(to)
    return params


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _transport_error(exc: httpx.TransportError) -> OmiseError:
    # Connect failures and pool waits happen before a byte of the request is
    # sent; everything after that may have reached Omise.
    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    if isinstance(exc, httpx.TimeoutException):
        return OmiseTimeout(
            f"Omise did not answer in time ({type(exc).__name__})", request_sent=sent
        )
    return OmiseConnectionError(
        f"connection to Omise failed ({type(exc).__name__})", request_sent=sent
    )


def _status_error(response: httpx.Response) -> OmiseError:
    status = response.status_code
    try:
        body = ErrorBody.model_validate(response.json())
        code, message = body.code, body.message
    except (ValueError, ModelError):
        code, message = "unknown", response.reason_phrase or f"HTTP {status}"
    if status == 401:
        return AuthenticationError(message, status=status, code=code)
    if status == 404:
        return NotFoundError(message, status=status, code=code)
    if status in (400, 422):
        return ValidationError(message, status=status, code=code)
    if status == 429:
        return RateLimitError(
            message, status=status, code=code, retry_after=_retry_after(response.headers)
        )
    if status >= 500:
        return ServerError(message, status=status, code=code)
    return UnexpectedResponse(message, status=status, code=code)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _parse(model: type[_M], content: bytes) -> _M:
    # Straight from bytes: pydantic's own JSON parser is several times
    # cheaper than json.loads followed by validation, and the watcher parses
    # whole pages of links on every pass.
    try:
        return model.model_validate_json(content)
    except ModelError as exc:
        raise UnexpectedResponse(
            f"Omise answered with something that is not a {model.__name__}: "
            f"{exc.error_count()} problem(s)",
            status=200,
        ) from None
