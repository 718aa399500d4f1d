from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from linkbot.omise import (
    AuthenticationError,
    CreateOutcomeUnknown,
    DeletedLink,
    Link,
    NotFoundError,
    OmiseClient,
    OmiseConnectionError,
    OmiseError,
    OmiseList,
    OmiseTimeout,
    RateLimitError,
    ServerError,
    UnexpectedResponse,
    ValidationError,
)
from linkbot.omise.models import Charge
from linkbot.sandbox import fakes

URL = "https://api.omise.test"
KEY = fakes.OMISE_KEY
FIXTURES = Path(__file__).parent / "fixtures" / "omise"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


LINK = fixture("link-2019-05-29-get.json")


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
async def client(slept: list[float]) -> AsyncIterator[OmiseClient]:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async with OmiseClient(KEY, base_url=URL, sleep=sleep, max_attempts=4) as client:
        yield client


@pytest.fixture
def api() -> respx.MockRouter:
    with respx.mock(base_url=URL, assert_all_called=False) as router:
        yield router


def error(status: int, code: str, message: str = "message") -> httpx.Response:
    return httpx.Response(status, json={"object": "error", "code": code, "message": message})


# Every recorded response parses


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_every_recorded_response_parses(name: str) -> None:
    body = fixture(name)
    if body["object"] == "list":
        parsed: Any = OmiseList[Link].model_validate(body)
        assert parsed.data
    elif body["object"] == "charge":
        parsed = Charge.model_validate(body)
        assert parsed.currency == "THB"
    elif "amount" in body:
        parsed = Link.model_validate(body)
        assert parsed.currency == "THB"
        assert parsed.created_at.tzinfo is not None
    else:
        parsed = DeletedLink.model_validate(body)
        assert parsed.deleted


def test_legacy_list_shape() -> None:
    page = OmiseList[Link].model_validate(fixture("links-legacy-list.json"))
    link = page.data[0]
    assert link.currency == "THB"  # lowercase on old versions
    assert link.created_at.isoformat() == "2016-10-18T06:54:57+00:00"
    assert link.charges.order is None
    assert link.charges.data[0].successful and link.paid


def test_current_delete_shape() -> None:
    link = Link.model_validate(fixture("link-2019-05-29-delete.json"))
    assert link.deleted and link.deleted_at is not None and not link.paid


# Operations


async def test_create_link_sends_form_auth_and_version(
    api: respx.MockRouter, client: OmiseClient
) -> None:
    route = api.post("/links").mock(return_value=httpx.Response(200, json=LINK))
    link = await client.create_link(
        amount=7440, currency="THB", title="Hot Latte", description="A warm cup", multiple=True
    )
    assert link.id == LINK["id"]
    request = route.calls.last.request
    assert dict(httpx.QueryParams(request.content.decode())) == {
        "amount": "7440",
        "currency": "thb",
        "title": "Hot Latte",
        "description": "A warm cup",
        "multiple": "true",
    }
    assert request.headers["Omise-Version"] == "2019-05-29"
    assert (
        request.headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    )
    assert request.headers["User-Agent"].startswith("linkbot/")


async def test_retrieve_link(api: respx.MockRouter, client: OmiseClient) -> None:
    api.get(f"/links/{LINK['id']}").mock(return_value=httpx.Response(200, json=LINK))
    link = await client.retrieve_link(LINK["id"])
    assert (link.amount, link.title, link.used) == (100000, "Order-384", False)


async def test_list_links_parameters(api: respx.MockRouter, client: OmiseClient) -> None:
    from datetime import UTC, datetime

    route = api.get("/links").mock(
        return_value=httpx.Response(200, json=fixture("links-legacy-list.json"))
    )
    page = await client.list_links(
        from_=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        offset=20,
        limit=500,
        order="reverse_chronological",
    )
    assert page.total == 1
    assert dict(route.calls.last.request.url.params) == {
        "from": "2024-01-02T03:04:05Z",
        "offset": "20",
        "limit": "100",
        "order": "reverse_chronological",
    }


async def test_destroy_link_both_shapes(api: respx.MockRouter, client: OmiseClient) -> None:
    api.delete("/links/link_test_a").mock(
        return_value=httpx.Response(200, json=fixture("link-2019-05-29-delete.json"))
    )
    api.delete("/links/link_test_b").mock(
        return_value=httpx.Response(200, json=fixture("link-legacy-delete.json"))
    )
    current = await client.destroy_link("link_test_a")
    legacy = await client.destroy_link("link_test_b")
    assert isinstance(current, Link) and current.deleted
    assert isinstance(legacy, DeletedLink) and legacy.deleted


async def test_link_charges_and_charge(api: respx.MockRouter, client: OmiseClient) -> None:
    charges = fixture("links-legacy-list.json")["data"][0]["charges"]
    api.get("/links/link_test_a/charges").mock(return_value=httpx.Response(200, json=charges))
    api.get("/charges/chrg_x").mock(
        return_value=httpx.Response(200, json=fixture("charge-2019-05-29-get.json"))
    )
    page = await client.list_link_charges("link_test_a")
    charge = await client.retrieve_charge("chrg_x")
    assert page.data[0].successful
    assert charge.status == "pending" and charge.link is None


async def test_ids_cannot_walk_the_path(api: respx.MockRouter, client: OmiseClient) -> None:
    route = api.get(url__regex=r".*").mock(return_value=error(404, "not_found"))
    with pytest.raises(NotFoundError):
        await client.retrieve_link("../charges/x")
    assert route.calls.last.request.url.raw_path == b"/links/..%2Fcharges%2Fx"


# Errors


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, "authentication_failure", AuthenticationError),
        (404, "not_found", NotFoundError),
        (400, "bad_request", ValidationError),
        (422, "invalid_link", ValidationError),
        (429, "too_many_requests", RateLimitError),
        (500, "internal_error", ServerError),
        (503, "service_unavailable", ServerError),
    ],
)
async def test_status_errors(
    api: respx.MockRouter, client: OmiseClient, status: int, code: str, kind: type[OmiseError]
) -> None:
    api.get("/links/link_test_a").mock(return_value=error(status, code, "what went wrong"))
    with pytest.raises(kind) as caught:
        await client.retrieve_link("link_test_a")
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        status,
        code,
        "what went wrong",
    )


async def test_error_without_json_body(api: respx.MockRouter, client: OmiseClient) -> None:
    api.get("/links/link_test_a").mock(return_value=httpx.Response(502, text="<html>Bad gateway"))
    with pytest.raises(ServerError) as caught:
        await client.retrieve_link("link_test_a")
    assert caught.value.status == 502 and caught.value.code == "unknown"


async def test_garbled_success(api: respx.MockRouter, client: OmiseClient) -> None:
    api.get("/links/link_test_a").mock(return_value=httpx.Response(200, json={"object": "link"}))
    with pytest.raises(UnexpectedResponse):
        await client.retrieve_link("link_test_a")


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ReadTimeout("slow"), OmiseTimeout),
        (httpx.ConnectTimeout("slow"), OmiseTimeout),
        (httpx.ConnectError("refused"), OmiseConnectionError),
        (httpx.RemoteProtocolError("dropped"), OmiseConnectionError),
    ],
)
async def test_transport_errors_after_retries(
    api: respx.MockRouter,
    client: OmiseClient,
    slept: list[float],
    exc: Exception,
    kind: type[OmiseError],
) -> None:
    route = api.get("/links/link_test_a").mock(side_effect=exc)
    with pytest.raises(kind):
        await client.retrieve_link("link_test_a")
    assert route.call_count == 4
    assert len(slept) == 3


# Retries


async def test_get_retried_on_5xx_then_succeeds(
    api: respx.MockRouter, client: OmiseClient, slept: list[float]
) -> None:
    route = api.get("/links/link_test_a").mock(
        side_effect=[
            error(500, "internal_error"),
            error(503, "unavailable"),
            httpx.Response(200, json=LINK),
        ]
    )
    assert (await client.retrieve_link("link_test_a")).id == LINK["id"]
    assert route.call_count == 3
    # Exponential backoff with jitter: 0.5 s then 1 s, each scaled into [50 %, 100 %].
    assert 0.25 <= slept[0] <= 0.5 and 0.5 <= slept[1] <= 1.0


async def test_retry_after_is_honoured(
    api: respx.MockRouter, client: OmiseClient, slept: list[float]
) -> None:
    api.delete("/links/link_test_a").mock(
        side_effect=[
            httpx.Response(
                429,
                json={"object": "error", "code": "too_many_requests", "message": "slow down"},
                headers={"Retry-After": "7"},
            ),
            httpx.Response(200, json=fixture("link-2019-05-29-delete.json")),
        ]
    )
    await client.destroy_link("link_test_a")
    assert slept == [7.0]


async def test_retry_after_beyond_the_cap_is_not_waited_for(
    api: respx.MockRouter, client: OmiseClient, slept: list[float]
) -> None:
    api.get("/links").mock(
        return_value=httpx.Response(
            429,
            json={"object": "error", "code": "too_many_requests", "message": "x"},
            headers={"Retry-After": "3600"},
        )
    )
    with pytest.raises(RateLimitError) as caught:
        await client.list_links()
    assert caught.value.retry_after == 3600 and slept == []


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_client_errors_are_not_retried(
    api: respx.MockRouter, client: OmiseClient, status: int
) -> None:
    route = api.get("/links/link_test_a").mock(return_value=error(status, "x"))
    with pytest.raises(OmiseError):
        await client.retrieve_link("link_test_a")
    assert route.call_count == 1


# A create is never resent once it may have reached Omise


@pytest.mark.parametrize(
    "outcome",
    [
        httpx.ReadTimeout("no answer"),
        httpx.WriteTimeout("stalled"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("reset"),
        error(500, "internal_error"),
        error(503, "unavailable"),
        httpx.Response(200, text="not json"),
    ],
)
async def test_create_is_never_resent(
    api: respx.MockRouter, client: OmiseClient, slept: list[float], outcome: Any
) -> None:
    route = api.post("/links").mock(side_effect=[outcome, httpx.Response(200, json=LINK)])
    with pytest.raises(CreateOutcomeUnknown):
        await client.create_link(amount=7440, currency="THB", title="t", description="d")
    assert route.call_count == 1
    assert slept == []


@pytest.mark.parametrize("status", [400, 401, 429])
async def test_create_refusals_are_not_resent(
    api: respx.MockRouter, client: OmiseClient, status: int
) -> None:
    route = api.post("/links").mock(return_value=error(status, "x"))
    with pytest.raises(OmiseError) as caught:
        await client.create_link(amount=7440, currency="THB", title="t", description="d")
    assert not isinstance(caught.value, CreateOutcomeUnknown)
    assert route.call_count == 1


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow")])
async def test_create_is_retried_when_nothing_was_sent(
    api: respx.MockRouter, client: OmiseClient, failure: Exception
) -> None:
    route = api.post("/links").mock(side_effect=[failure, failure, httpx.Response(200, json=LINK)])
    link = await client.create_link(amount=7440, currency="THB", title="t", description="d")
    assert link.id == LINK["id"] and route.call_count == 3


async def test_create_connect_failures_exhausted(
    api: respx.MockRouter, client: OmiseClient
) -> None:
    api.post("/links").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(OmiseConnectionError) as caught:
        await client.create_link(amount=7440, currency="THB", title="t", description="d")
    assert not caught.value.request_sent


# Secrets


async def test_secret_key_stays_out_of_reprs_and_errors(
    api: respx.MockRouter, client: OmiseClient
) -> None:
    api.get("/links").mock(
        return_value=error(401, "authentication_failure", "authentication failed")
    )
    with pytest.raises(AuthenticationError) as caught:
        await client.list_links()
    for text in (repr(client), str(client), repr(caught.value), str(caught.value)):
        assert KEY not in text
    assert "test" in repr(client) or "livemode=False" in repr(client)


def test_livemode_from_key() -> None:
    assert OmiseClient("skey_test_x").livemode is False
    assert OmiseClient("skey_5x").livemode is True
