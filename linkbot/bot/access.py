"""Who may do what. Fails closed: no user, no list, no access."""

from __future__ import annotations

from telegram import Chat, Update, User

from linkbot.bot.throttle import StrangerReplies
from linkbot.store import LinkRecord


class Access:
    def __init__(
        self, allowed_users: frozenset[int], stranger_replies: StrangerReplies | None = None
    ) -> None:
        self.allowed_users = allowed_users
        self.stranger_replies = StrangerReplies() if stranger_replies is None else stranger_replies

    def may_manage(self, user: User | None) -> bool:
        """Whether ``user`` may create, list, cancel and query links."""
        return user is not None and not user.is_bot and user.id in self.allowed_users

    @staticmethod
    def is_private(chat: Chat | None) -> bool:
        return chat is not None and chat.type == Chat.PRIVATE

    def grant_reply(self, update: Update) -> bool:
        """Whether to answer ``update`` at all; a reply granted to a stranger in a group counts.

        A stranger in a group is answered once per chat in ten minutes (see
        :mod:`linkbot.bot.throttle`), because every reply there spends the
        group's flood allowance the merchant's links need. A button press is
        always answered: its alert is no chat message and costs none.
        """
        chat, user = update.effective_chat, update.effective_user
        if (
            update.callback_query is not None
            or chat is None
            or self.is_private(chat)
            or self.may_manage(user)
        ):
            return True
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
