"""Errors raised by the Omise client.

Every failure is an :class:`OmiseError`: the subclass says what kind, and
``status``, ``code`` and ``message`` carry what Omise answered, if it did.
"""

from __future__ import annotations


class OmiseError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        # False only when the failure proves that no byte reached Omise.
        self.request_sent = request_sent

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r})"
        )


class AuthenticationError(OmiseError):
    """401: the secret key is wrong, revoked, or a public key."""


class NotFoundError(OmiseError):
    """404: no such object on this account."""


class ValidationError(OmiseError):
    """400 or 422: Omise refused the parameters (amount limits, currency, ...)."""

    # What a refused create asked for (smallest units, ISO code), when the
    # caller knows: the answer can then name the limit that was broken.
    amount: int | None = None
    currency: str | None = None


class RateLimitError(OmiseError):
    """429: too many requests; ``retry_after`` is what Omise asked for, in seconds."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class ServerError(OmiseError):
    """5xx: trouble on Omise's side."""


class OmiseTimeout(OmiseError):
    """Omise did not answer in time."""


class OmiseConnectionError(OmiseError):
    """No connection to Omise could be made, or it dropped."""


class UnexpectedResponse(OmiseError):
    """An answer that is not the JSON object the call expects."""


class CreateOutcomeUnknown(OmiseError):
    """``POST /links`` may have reached Omise, but no answer says whether it created a link.

    The request is never resent: Omise has no idempotency key, so a resend
    could create a second link. ``cause`` is the failure that left it unknown.
    """

    def __init__(self, cause: OmiseError) -> None:
        super().__init__(
            f"link creation outcome unknown: {cause.message}", status=cause.status, code=cause.code
        )
        self.cause = cause
