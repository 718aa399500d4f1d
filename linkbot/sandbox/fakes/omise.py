"""A stand-in for the Omise API: links, their charges and the account's events."""

from __future__ import annotations

import base64
import secrets
import threading
import urllib.parse
from datetime import UTC, datetime
from typing import Any, ClassVar

from linkbot.sandbox.fakes.common import Answer, Fault, _Concurrency, _Faults

OMISE_KEY = "skey_test_5xa9q0linkbotsecretkey"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id(prefix: str) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(19))


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# A failed charge's failure_code, as Omise's SDKs name them, and a failure_message
# (Omise words its own; the bot reads neither, only the status).
CHARGE_FAILURES = {
    "payment_rejected": "payment rejected by the issuer",
    "insufficient_fund": "insufficient funds or credit limit reached",
    "failed_processing": "card processing failed",
    "stolen_or_lost_card": "card reported stolen or lost",
    "invalid_security_code": "invalid security code",
    "failed_fraud_check": "card marked as fraudulent",
}


class FakeOmise(_Concurrency):
    """Enough of the Omise API for links and their charges, 2019-05-29 shapes."""

    minimums: ClassVar[dict[str, int]] = {"THB": 2000, "SGD": 100, "MYR": 100, "JPY": 100}
    maximums: ClassVar[dict[str, int]] = {
        "THB": 15_000_000,
        "SGD": 2_000_000,
        "MYR": 10_000_000,
        "JPY": 6_000_000,
    }

    def __init__(self, secret_key: str = OMISE_KEY, latency: float = 0.0) -> None:
        super().__init__()
        self.secret_key = secret_key
        # Where a link's payment page lives (the sandbox serves its own).
        self.payment_base = "https://link.omise.test"
        self.latency = latency
        self.links: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        # Every event on the account, oldest first, as GET /events lists them.
        self.events: list[dict[str, Any]] = []
        # Events are serialized in the account's default API version, not the
        # one a request asks for: "legacy" sends the older charge shape.
        self.event_version = "2019-05-29"
        self.requests: list[str] = []
        self.faults = _Faults()
        self._lock = threading.Lock()

    # Test controls

    def fail(self, match: str, **kwargs: Any) -> None:
        self.faults.add(Fault(match, **kwargs))

    def add_link(
        self,
        amount: int = 7440,
        currency: str = "THB",
        title: str = "Hot Latte",
        description: str | None = None,
        multiple: bool = False,
        created_at: str | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            return self._create(
                {
                    "amount": str(amount),
                    "currency": currency,
                    "title": title,
                    "description": description or title,
                    "multiple": str(multiple).lower(),
                },
                created_at=created_at,
            )

    def pay(
        self, link_id: str, *, status: str = "successful", failure: str = "payment_rejected"
    ) -> dict[str, Any]:
        """A customer pays through the link.

        "successful" is a card charge that succeeds at once; "pending" is
        PromptPay, mobile banking or 3-D Secure, settled later by
        :meth:`settle`; "failed" is a declined card, for the reason ``failure``
        (one of :data:`CHARGE_FAILURES`). Omise records a ``charge.create``
        event either way.
        """
        with self._lock:
            link = self.links[link_id]
            charge = {
                "object": "charge",
                "id": _id("chrg_test_"),
                "livemode": False,
                "location": None,
                "amount": link["amount"],
                "currency": link["currency"],
                "status": status,
                "paid": False,
                "link": link_id,
                "description": link["description"],
                "return_uri": f"{link['payment_uri']}/complete",
                "created_at": _now(),
                "paid_at": None,
                "fee": 0,
                "fee_vat": 0,
                "net": 0,
                "refunded_amount": 0,
                "failure_code": None,
                "failure_message": None,
                "expired": False,
                "expired_at": None,
            }
            charge["location"] = f"/charges/{charge['id']}"
            self._set_status(charge, status, failure)
            self.charges[charge["id"]] = charge
            link["charges"]["data"].append(charge)
            link["charges"]["total"] += 1
            self._event("charge.create", charge)
            return charge

    def settle(
        self, charge_id: str, status: str = "successful", failure: str = "payment_rejected"
    ) -> dict[str, Any]:
        """A pending charge completes (the customer confirmed in the banking app, or not).

        "expired" is a charge never paid in time; "failed" one the bank refused.
        """
        with self._lock:
            charge = self.charges[charge_id]
            assert charge["status"] == "pending", "only a pending charge settles"
            self._set_status(charge, status, failure)
            self._event("charge.complete", charge)
            return charge

    def _set_status(
        self, charge: dict[str, Any], status: str, failure: str = "payment_rejected"
    ) -> None:
        charge["status"] = status
        if status == "successful":
            fee = charge["amount"] * 365 // 10000
            vat = fee * 7 // 100
            charge.update(paid=True, paid_at=_now(), fee=fee, fee_vat=vat)
            charge["net"] = charge["amount"] - fee - vat
            link = self.links.get(charge["link"])
            if link is not None:
                link["used"] = True
                link["used_at"] = link["used_at"] or _now()
        elif status == "failed":
            charge.update(failure_code=failure, failure_message=CHARGE_FAILURES[failure])
        elif status == "expired":
            # As Omise records an expired charge: no failure code, only the flag and the time.
            charge.update(expired=True, expired_at=_now(), failure_code=None, failure_message=None)

    def _event(self, key: str, charge: dict[str, Any]) -> dict[str, Any]:
        event_id = _id("evnt_test_")
        data = dict(charge)
        if self.event_version == "legacy":
            # The older shape: "created", lowercase currency, no "link" field.
            data["created"] = data.pop("created_at")
            data["currency"] = data["currency"].lower()
            data.pop("link", None)
            data.pop("paid_at", None)
        event = {
            "object": "event",
            "id": event_id,
            "livemode": False,
            "location": f"/events/{event_id}",
            "key": key,
            "created_at": _now(),
            "data": data,
        }
        self.events.append(event)
        return event

    def refund(self, charge_id: str, amount: int | None = None) -> dict[str, Any]:
        """The merchant refunds (part of) a charge in the dashboard: a ``refund.create`` event."""
        with self._lock:
            charge = self.charges[charge_id]
            amount = charge["amount"] - charge["refunded_amount"] if amount is None else amount
            charge["refunded_amount"] += amount
            refund = {
                "object": "refund",
                "id": _id("rfnd_test_"),
                "location": f"/charges/{charge_id}/refunds",
                "amount": amount,
                "currency": charge["currency"],
                "charge": charge_id,
                "created_at": _now(),
            }
            event_id = _id("evnt_test_")
            self.events.append(
                {
                    "object": "event",
                    "id": event_id,
                    "livemode": False,
                    "location": f"/events/{event_id}",
                    "key": "refund.create",
                    "created_at": _now(),
                    "data": refund,
                }
            )
            return refund

    def other_charge(self, amount: int = 10000) -> dict[str, Any]:
        """A charge made outside the bot's links (the merchant's web shop), with its event."""
        with self._lock:
            charge: dict[str, Any] = {
                "object": "charge",
                "id": _id("chrg_test_"),
                "livemode": False,
                "location": None,
                "amount": amount,
                "currency": "THB",
                "status": "successful",
                "paid": True,
                "link": None,
                "description": "Order-123",
                "created_at": _now(),
                "paid_at": _now(),
                "refunded_amount": 0,
            }
            self.charges[charge["id"]] = charge
            self._event("charge.create", charge)
            return charge

    def delete(self, link_id: str) -> None:
        with self._lock:
            self.links[link_id].update(deleted=True, deleted_at=_now())

    def count(self, prefix: str) -> int:
        return sum(1 for r in self.requests if r.startswith(prefix))

    # The API

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        url = urllib.parse.urlsplit(target)
        path = url.path
        query = dict(urllib.parse.parse_qsl(url.query))
        form = dict(urllib.parse.parse_qsl(body.decode())) if body else {}
        key = f"{method} {path}"
        with self._lock:
            self.requests.append(key)
            fault = self.faults.take(key)
            if fault is not None and not fault.apply:
                return Answer(
                    fault.status,
                    fault.body or _error("internal_error", "fault"),
                    fault.headers,
                    fault.drop,
                    fault.delay or self.latency,
                )
            if not self._authorized(headers):
                answer = Answer(401, _error("authentication_failure", "authentication failed"))
            else:
                answer = self._route(method, path, query, form)
            answer.delay = self.latency
            if fault is not None:  # it takes effect, but the answer is late, lost or wrong
                answer.delay, answer.drop = fault.delay or self.latency, fault.drop
                if fault.status != 200:
                    answer.status = fault.status
                    answer.body = fault.body or _error("internal_error", "fault")
            return answer

    def _authorized(self, headers: dict[str, str]) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.secret_key}:".encode()).decode()
        return headers.get("authorization") == expected

    def _route(self, method: str, path: str, query: dict[str, str], form: dict[str, str]) -> Answer:
        parts = path.strip("/").split("/")
        if parts == ["links"] and method == "POST":
            return self._post_link(form)
        if parts == ["links"] and method == "GET":
            listed = [_render(link) for link in self.links.values()]
            return Answer(200, self._list(listed, "/links", query))
        if len(parts) >= 2 and parts[0] == "links":
            link = self.links.get(parts[1])
            if link is None:
                return Answer(404, _error("not_found", f"link {parts[1]} was not found"))
            if len(parts) == 2 and method == "GET":
                return Answer(200, _render(link))
            if len(parts) == 2 and method == "DELETE":
                if not link["deleted"]:
                    link.update(deleted=True, deleted_at=_now())
                return Answer(200, _render(link))
            if parts[2:] == ["charges"] and method == "GET":
                charges = [c for c in self.charges.values() if c["link"] == link["id"]]
                return Answer(200, self._list(charges, f"{path}", query))
        if parts == ["charges"] and method == "GET":
            return Answer(200, self._list(list(self.charges.values()), "/charges", query))
        if len(parts) == 2 and parts[0] == "charges" and method == "GET":
            charge = self.charges.get(parts[1])
            if charge is None:
                return Answer(404, _error("not_found", f"charge {parts[1]} was not found"))
            return Answer(200, charge)
        if parts == ["events"] and method == "GET":
            return Answer(200, self._list(self.events, "/events", query, stable=True))
        if len(parts) == 2 and parts[0] == "events" and method == "GET":
            for event in self.events:
                if event["id"] == parts[1]:
                    return Answer(200, event)
            return Answer(404, _error("not_found", f"event {parts[1]} was not found"))
        return Answer(404, _error("not_found", "not found"))

    def _post_link(self, form: dict[str, str]) -> Answer:
        missing = [k for k in ("amount", "currency", "title", "description") if not form.get(k)]
        if missing:
            return Answer(400, _error("bad_request", f"{missing[0]} is required"))
        if not form["amount"].isdigit() or int(form["amount"]) <= 0:
            return Answer(400, _error("invalid_amount", "amount must be a positive integer"))
        currency = form["currency"].upper()
        amount, decimals = int(form["amount"]), 0 if currency == "JPY" else 2
        if amount < self.minimums.get(currency, 1):
            least = self.minimums[currency] // 10**decimals
            return Answer(
                400, _error("invalid_amount", f"amount must be at least {least} {currency.lower()}")
            )
        if amount > self.maximums.get(currency, amount):
            most = self.maximums[currency] // 10**decimals
            return Answer(
                400, _error("invalid_amount", f"amount must be at most {most} {currency.lower()}")
            )
        return Answer(200, _render(self._create(form)))

    def _create(self, form: dict[str, str], created_at: str | None = None) -> dict[str, Any]:
        link_id = _id("link_test_")
        link = {
            "object": "link",
            "id": link_id,
            "livemode": False,
            "location": f"/links/{link_id}",
            "deleted": False,
            "multiple": form.get("multiple") == "true",
            "used": False,
            "currency": form["currency"].upper(),
            "amount": int(form["amount"]),
            "charges": {
                "object": "list",
                "data": [],
                "limit": 20,
                "offset": 0,
                "total": 0,
                "location": f"/links/{link_id}/charges",
                "order": "chronological",
                "from": "1970-01-01T00:00:00Z",
                "to": _now(),
            },
            "description": form["description"],
            "title": form["title"],
            "payment_uri": f"{self.payment_base}/{link_id[10:].upper()}",
            "created_at": created_at or _now(),
            "used_at": None,
            "deleted_at": None,
        }
        self.links[link_id] = link
        return link

    def _list(
        self,
        items: list[dict[str, Any]],
        location: str,
        query: dict[str, str],
        *,
        stable: bool = False,
    ) -> dict[str, Any]:
        # Within one second, events keep the order they happened in.
        items = sorted(
            items, key=lambda i: i["created_at"] if stable else (i["created_at"], i["id"])
        )
        if "from" in query:
            items = [i for i in items if _parse_time(i["created_at"]) >= _parse_time(query["from"])]
        if "to" in query:
            items = [i for i in items if _parse_time(i["created_at"]) <= _parse_time(query["to"])]
        order = query.get("order", "chronological")
        if order == "reverse_chronological":
            items.reverse()
        offset, limit = int(query.get("offset", 0)), min(int(query.get("limit", 20)), 100)
        return {
            "object": "list",
            "from": query.get("from", "1970-01-01T00:00:00Z"),
            "to": query.get("to", _now()),
            "offset": offset,
            "limit": limit,
            "total": len(items),
            "order": order,
            "location": location,
            "data": items[offset : offset + limit],
        }


def _render(link: dict[str, Any]) -> dict[str, Any]:
    """A link as Omise sends it: its embedded charges list holds the first 20 only."""
    charges = link["charges"]
    return {**link, "charges": {**charges, "data": charges["data"][:20]}}


def _error(code: str, message: str) -> dict[str, str]:
    return {
        "object": "error",
        "location": "https://www.omise.co/api-errors",
        "code": code,
        "message": message,
    }
