"""One TLS client context for the whole process.

Each HTTP client would otherwise load the CA bundle into a context of its own:
about 1.5 MiB of memory and 30 ms of start-up per copy, three copies (Telegram's
two connection pools and Omise's).
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def client_context() -> ssl.SSLContext:
    """The context httpx would make (certifi's CAs, or SSL_CERT_FILE / SSL_CERT_DIR)."""
    return httpx.create_ssl_context(verify=True, trust_env=True)
