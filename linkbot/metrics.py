"""Counters and timings for ``/metrics``, in one place, free when they are off.

Every instrumented spot calls :func:`recorder` and one method on what it
returns. With ``LINKBOT_METRICS`` unset that is :class:`Recorder`, whose
methods do nothing, and prometheus-client is never imported. The layers
below ``bot/`` take these methods as plain callbacks
(``OmiseClient(on_response=...)``, ``PaymentWatcher(on_pass=...)``), so
they know nothing of Prometheus.

Labels are bounded: commands come from the bot's own menu, Omise routes are
templates (``GET /links/{id}``), never raw ids, and outcomes are a few words.
"""

from __future__ import annotations

from typing import Any


class Recorder:
    """Metrics switched off: every call is a no-op."""

    enabled = False

    def command(self, command: str, outcome: str) -> None:
        pass

    def omise_request(self, route: str, status: str, seconds: float) -> None:
        pass

    def payment_announced(self) -> None:
        pass

    def watcher_pass(self, seconds: float, lag: float | None) -> None:
        pass

    def telegram_flood(self) -> None:
        pass

    def telegram_retry(self) -> None:
        pass

    def webhook_request(self, endpoint: str, outcome: str) -> None:
        pass

    def exposition(self) -> tuple[bytes, str]:
        raise LookupError("metrics are off")


class PrometheusRecorder(Recorder):
    """The same calls, counted in a registry of its own."""

    enabled = True

    def __init__(self) -> None:
        # Imported here so that a bot without metrics never loads it.
        import prometheus_client as prom

        self._prom: Any = prom
        self.registry = prom.CollectorRegistry(auto_describe=True)
        registry = self.registry
        self._commands = prom.Counter(
            "linkbot_commands",
            "Commands handled, by command and outcome",
            ["command", "outcome"],
            registry=registry,
        )
        self._omise = prom.Histogram(
            "linkbot_omise_request_duration_seconds",
            "Omise API requests, by route template and status (or transport error)",
            ["route", "status"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=registry,
        )
        self._announced = prom.Counter(
            "linkbot_payments_announced", "Payments announced in Telegram", registry=registry
        )
        self._pass = prom.Histogram(
            "linkbot_watcher_pass_duration_seconds",
            "How long a payment watcher pass took",
            buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
            registry=registry,
        )
        self._lag = prom.Gauge(
            "linkbot_watcher_lag_seconds",
            "How far behind now the watcher's event cursor (on Omise's clock) is",
            registry=registry,
        )
        self._floods = prom.Counter(
            "linkbot_telegram_flood_waits",
            "Telegram 429 answers (Too Many Requests)",
            registry=registry,
        )
        self._retries = prom.Counter(
            "linkbot_telegram_retries",
            "Telegram requests sent again after a 429",
            registry=registry,
        )
        self._webhooks = prom.Counter(
            "linkbot_webhook_requests",
            "Webhook requests received, by endpoint and outcome",
            ["endpoint", "outcome"],
            registry=registry,
        )

    def command(self, command: str, outcome: str) -> None:
        self._commands.labels(command, outcome).inc()

    def omise_request(self, route: str, status: str, seconds: float) -> None:
        self._omise.labels(route, status).observe(seconds)

    def payment_announced(self) -> None:
        self._announced.inc()

    def watcher_pass(self, seconds: float, lag: float | None) -> None:
        self._pass.observe(seconds)
        if lag is not None:
            self._lag.set(lag)

    def telegram_flood(self) -> None:
        self._floods.inc()

    def telegram_retry(self) -> None:
        self._retries.inc()

    def webhook_request(self, endpoint: str, outcome: str) -> None:
        self._webhooks.labels(endpoint, outcome).inc()

    def exposition(self) -> tuple[bytes, str]:
        return self._prom.generate_latest(self.registry), self._prom.CONTENT_TYPE_LATEST


_OFF = Recorder()
_current: Recorder = _OFF


def recorder() -> Recorder:
    """What instrumented code reports to: the no-op until :func:`enable` is called."""
    return _current


def enable() -> Recorder:
    """Start counting (once per process; a second call keeps the first registry)."""
    global _current
    if not _current.enabled:
        _current = PrometheusRecorder()
    return _current


def disable() -> None:
    global _current
    _current = _OFF
