"""Who may do what. Fails closed: no user, no list, no access."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram import Chat, ChatMember, Update, User
from telegram.error import TelegramError

from linkbot.bot.throttle import StrangerReplies
from linkbot.store import LinkRecord

logger = logging.getLogger(__name__)

# How long a group member's getChatMember answer is trusted.
ADMIN_CACHE_SECONDS = 300.0
_GROUPS = (Chat.GROUP, Chat.SUPERGROUP)
_ADMINS = (ChatMember.OWNER, ChatMember.ADMINISTRATOR)


class Access:
    def __init__(
        self,
        allowed_users: frozenset[int],
        stranger_replies: StrangerReplies | None = None,
        *,
        group_admins: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allowed_users = allowed_users
        self.stranger_replies = StrangerReplies() if stranger_replies is None else stranger_replies
        self.group_admins = group_admins
        self._clock = clock
        # (chat id, user id) -> (when asked, whether an administrator then)
        self._admins: dict[tuple[int, int], tuple[float, bool]] = {}

    def may_manage(self, user: User | None) -> bool:
        """Whether ``user`` may create, list, cancel and query links everywhere."""
        return user is not None and not user.is_bot and user.id in self.allowed_users

    async def may_act(self, update: Update) -> bool:
        """Whether the sender of ``update`` may manage links where it was sent.

        An allowed user may anywhere. With LINKBOT_GROUP_ADMINS, so may a
        group's creator and administrators, in that group only: never in a
        private chat, and never another chat's links (:meth:`may_see`).
        """
        user, chat = update.effective_user, update.effective_chat
        if self.may_manage(user):
            return True
        if not self.group_admins or user is None or user.is_bot or chat is None:
            return False
        if chat.type not in _GROUPS:
            return False
        return await self._is_admin(update, chat.id, user.id)

    def known_admin(self, chat_id: int, user: User | None) -> bool:
        """Whether ``user`` was found to administer the group lately (no network: a cache look)."""
        if not self.group_admins or user is None:
            return False
        known = self._admins.get((chat_id, user.id))
        return known is not None and known[1] and self._clock() - known[0] < ADMIN_CACHE_SECONDS

    async def _is_admin(self, update: Update, chat_id: int, user_id: int) -> bool:
        now = self._clock()
        known = self._admins.get((chat_id, user_id))
        if known is not None and now - known[0] < ADMIN_CACHE_SECONDS:
            return known[1]
        try:
            member = await update.get_bot().get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            # Unknown is no: fail closed, and ask again next time.
            logger.warning("Could not check whether %s administers %s: %s", user_id, chat_id, exc)
            return False
        if len(self._admins) > 10_000:
            self._admins = {
                key: value
                for key, value in self._admins.items()
                if now - value[0] < ADMIN_CACHE_SECONDS
            }
        admin = member.status in _ADMINS
        self._admins[(chat_id, user_id)] = (now, admin)
        return admin

    @staticmethod
    def is_private(chat: Chat | None) -> bool:
        return chat is not None and chat.type == Chat.PRIVATE

    def grant_reply(self, update: Update) -> bool:
        """Whether to answer ``update`` at all; a reply granted to a stranger counts.

        A stranger in a group is answered once per chat in ten minutes (see
        :mod:`linkbot.bot.throttle`), because every reply there spends the
        group's flood allowance the merchant's links need; strangers in
        private chats, a few times a minute, and only so many together,
        because every reply spends the bot's own. A button press is always
        answered: its alert is no chat message and costs none.
        """
        chat, user = update.effective_chat, update.effective_user
        if update.callback_query is not None or chat is None or self.may_manage(user):
            return True
        if self.is_private(chat):
            return self.stranger_replies.grant_private(chat.id)
        return self.stranger_replies.grant(chat.id, user.id if user is not None else 0)

    def may_see(
        self,
        chat: Chat | None,
        record: LinkRecord | None,
        business_connection_id: str | None = None,
    ) -> bool:
        """Whether a link may be shown or touched in ``chat``.

        A group holds customers: there only the links made in that group are
        in reach, so no other customer's link or amount leaks into it. So
        does a merchant's own chat with a customer (``business_connection_id``):
        only the links sent there through that connection.
        """
        if business_connection_id is not None:
            return (
                chat is not None
                and record is not None
                and record.chat_id == chat.id
                and record.business_connection_id == business_connection_id
            )
        if self.is_private(chat):
            return True
        return chat is not None and record is not None and record.chat_id == chat.id
