"""Who reads a chat, and so what may be said in it.

A group holds customers: there the bot shows links and notices, never the
shop's takings (how many times a link was paid, what it brought in all,
each payment) unless the merchant chose to show the group its figures
(/report here on, for a staff-only group). What a merchant asks for in
such a group goes to their private chat, and the group hears only where.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.error import Forbidden, TelegramError

from linkbot.bot.delivery import Unconfirmed
from linkbot.bot.messages import text
from linkbot.bot.views import Reply
from linkbot.store import LinkRecord
from linkbot.store.reports import ReportQueries

logger = logging.getLogger(__name__)


async def takings_shown(reports: ReportQueries, chat_id: int) -> bool:
    """Whether ``chat_id`` may see takings: a private chat, or a group that chose to.

    Telegram gives users (private chats) positive ids and groups negative ones.
    """
    return chat_id > 0 or chat_id in await reports.report_groups()


async def link_takings_shown(reports: ReportQueries, record: LinkRecord) -> bool:
    """Whether a link's message may show its takings: it is read where it was posted.

    A link posted in a merchant's own chat with a customer is read by the customer.
    """
    return record.business_connection_id is None and await takings_shown(reports, record.chat_id)


async def privately(
    update: Update, language: str, send: Callable[[int], Awaitable[object]]
) -> Reply:
    """Send what a merchant asked for in a group to their private chat; what to tell the group.

    Telegram lets a bot write to a user only once they have started a private
    chat with it (and not blocked it since): otherwise the group is told how.
    ``send`` must not repeat a message that may have arrived: one that may
    have (:class:`Unconfirmed`) is not repeated, and the group hears that it
    may have. Any other failure is told plainly, so nobody is left waiting
    for a message that never comes.
    """
    user = update.effective_user
    assert user is not None
    bot = update.get_bot().username
    try:
        await send(user.id)
    except Unconfirmed:
        logger.warning("Telegram did not confirm a private message; it may have arrived")
        # Not sent again, and not claimed as certain: the merchant knows to look, and ask again.
        return Reply(text("sent_privately_unconfirmed", language))
    except Forbidden as exc:
        logger.info("Could not send privately: %s", exc.message)
        return Reply(text("private_chat_closed", language, bot=bot))
    except TelegramError as exc:
        logger.warning("Could not send privately: %s", exc.message)
        return Reply(text("private_send_failed", language, bot=bot))
    return Reply(text("sent_privately", language))
