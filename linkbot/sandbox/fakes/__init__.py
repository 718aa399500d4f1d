"""Local stand-ins for the Omise API and the Telegram Bot API.

Each fake is a plain state machine, ``handle(...) -> Answer``, so the same
behaviour serves two ways: as a respx side effect inside a test's event
loop, and as a real HTTP server on 127.0.0.1 for end-to-end tests and
benchmarks (:func:`serve`). Faults can be queued on either.

One module a service, to be read beside the API it imitates:

- ``omise``: links, charges and events (:class:`FakeOmise`);
- ``telegram``: the Bot API (:class:`FakeTelegram`), with inline mode
  (``telegram_inline``), Telegram Business (``telegram_business``) and
  webhooks (``telegram_webhooks``) mixed in; what Telegram refuses and how
  it says so (``telegram_checks``); updates as Telegram sends them
  (``telegram_updates``);
- ``serving``: either fake through respx or on 127.0.0.1;
- ``common``: the answer, faults and request counting they share.

Everything a test needs is importable from here: ``from linkbot.sandbox import fakes``.
"""

from linkbot.sandbox.fakes.common import Answer, Fault, _Faults
from linkbot.sandbox.fakes.omise import CHARGE_FAILURES, OMISE_KEY, FakeOmise
from linkbot.sandbox.fakes.serving import respx_handler, serve
from linkbot.sandbox.fakes.telegram import FakeTelegram
from linkbot.sandbox.fakes.telegram_checks import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    flood_body,
    html_problem,
)
from linkbot.sandbox.fakes.telegram_inline import INLINE_ANSWER_WINDOW
from linkbot.sandbox.fakes.telegram_updates import (
    BOT_ID,
    BOT_TOKEN,
    BOT_USER,
    BOT_USERNAME,
    bot_membership_update,
    callback_update,
    chosen_inline_result_update,
    command_update,
    group_chat,
    inline_query_update,
    migrate_from_update,
    migrate_to_update,
    private_chat,
    user,
)

__all__ = [
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USER",
    "BOT_USERNAME",
    "CAPTION_LIMIT",
    "CHARGE_FAILURES",
    "INLINE_ANSWER_WINDOW",
    "MESSAGE_LIMIT",
    "OMISE_KEY",
    "Answer",
    "FakeOmise",
    "FakeTelegram",
    "Fault",
    # A test clears the faults left queued on a fake by giving it new ones.
    "_Faults",
    "bot_membership_update",
    "callback_update",
    "chosen_inline_result_update",
    "command_update",
    "flood_body",
    "group_chat",
    "html_problem",
    "inline_query_update",
    "migrate_from_update",
    "migrate_to_update",
    "private_chat",
    "respx_handler",
    "serve",
    "user",
]
