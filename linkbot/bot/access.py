"""Who may do what. Fails closed: no user, no list, no access."""

from __future__ import annotations

from telegram import Chat, User

from linkbot.store import LinkRecord


class Access:
    def __init__(self, allowed_users: frozenset[int]) -> None:
        self.allowed_users = allowed_users

    def may_manage(self, user: User | None) -> bool:
        """Whether ``user`` may create, list, cancel and query links."""
        return user is not None and not user.is_bot and user.id in self.allowed_users

    @staticmethod
    def is_private(chat: Chat | None) -> bool:
        return chat is not None and chat.type == Chat.PRIVATE

    def may_see(self, chat: Chat | None, record: LinkRecord | None) -> bool:
        """Whether a link may be shown or touched in ``chat``.

        A group holds customers: there only the links made in that group are
        in reach, so no other customer's link or amount leaks into it.
        """
        if self.is_private(chat):
            return True
        return chat is not None and record is not None and record.chat_id == chat.id
