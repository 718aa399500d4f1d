"""How often the bot answers strangers, and that their answers go after the merchant's.

Every message the bot sends to a group spends the group's flood allowance
(Telegram: 20 a minute), and the merchant's link replies need it. Customers
typing commands the bot only refuses would otherwise spend it all. Every
message at all spends the bot's own allowance (about 30 a second): a crowd
of strangers starting private chats would otherwise hold up the merchant's
replies and notices for seconds.
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextvars import ContextVar

# A stranger is answered once per chat in this many seconds; later commands are ignored.
STRANGER_WINDOW = 600.0
# All strangers together get at most this many replies per group a minute, so many
# strangers at once still leave most of the group's 20 a minute to the merchant.
GROUP_REPLIES = 5
GROUP_WINDOW = 60.0
# In private chats a stranger is answered every time, up to this many replies a chat
# a minute, and all strangers together get at most PRIVATE_REPLIES a minute.
PRIVATE_CHAT_REPLIES = 5
PRIVATE_REPLIES = 30
PRIVATE_WINDOW = 60.0
# Strangers remembered at once. When full, new strangers are not answered: the
# promise "at most one reply" holds, and memory stays bounded.
CAPACITY = 10_000


class StrangerReplies:
    """Decides which strangers' commands get a reply, and counts those that do."""

    def __init__(
        self,
        *,
        stranger_window: float = STRANGER_WINDOW,
        group_replies: int = GROUP_REPLIES,
        group_window: float = GROUP_WINDOW,
        capacity: int = CAPACITY,
        private_chat_replies: int = PRIVATE_CHAT_REPLIES,
        private_replies: int = PRIVATE_REPLIES,
        private_window: float = PRIVATE_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._private_chat_replies = private_chat_replies
        self._private_replies = private_replies
        self._private_window = private_window
        # The times of the replies to strangers in private chats in the last window, of
        # all together and per chat (ordered by the latest reply, as the groups are).
        self._private: deque[float] = deque()
        self._private_chats: OrderedDict[int, deque[float]] = OrderedDict()
        self._stranger_window = stranger_window
        self._group_replies = group_replies
        self._group_window = group_window
        self._capacity = capacity
        self._clock = clock
        # Insertion order is time order (the clock never goes back, and an entry
        # is only ever added, never refreshed), so expiry pops from the front.
        self._answered: OrderedDict[tuple[int, int], float] = OrderedDict()
        # Per group, the times of the replies of the last window; ordered by the
        # latest reply, so groups quiet for a window leave from the front.
        self._groups: OrderedDict[int, deque[float]] = OrderedDict()

    def grant(self, chat_id: int, user_id: int) -> bool:
        """Whether to answer ``user_id`` in ``chat_id`` now; a granted reply is counted."""
        now = self._clock()
        self._expire(now)
        if (chat_id, user_id) in self._answered or len(self._answered) >= self._capacity:
            return False
        recent = self._groups.get(chat_id)
        if recent is not None:
            while recent and now - recent[0] >= self._group_window:
                recent.popleft()
            if len(recent) >= self._group_replies:
                return False
        self._answered[(chat_id, user_id)] = now
        self._groups.setdefault(chat_id, deque()).append(now)
        self._groups.move_to_end(chat_id)
        return True

    def grant_private(self, user_id: int) -> bool:
        """Whether to answer a stranger in their private chat now; a granted reply is counted."""
        now = self._clock()
        self._expire(now)
        if len(self._private) >= self._private_replies:
            return False
        recent = self._private_chats.get(user_id)
        if recent is not None:
            while recent and now - recent[0] >= self._private_window:
                recent.popleft()
            if len(recent) >= self._private_chat_replies:
                return False
        self._private.append(now)
        self._private_chats.setdefault(user_id, deque()).append(now)
        self._private_chats.move_to_end(user_id)
        return True

    def __len__(self) -> int:
        """How many strangers are remembered."""
        return len(self._answered)

    def _expire(self, now: float) -> None:
        while self._answered:
            oldest = next(iter(self._answered.values()))
            if now - oldest < self._stranger_window:
                break
            self._answered.popitem(last=False)
        while self._groups:
            latest = next(iter(self._groups.values()))[-1]
            if now - latest < self._group_window:
                break
            self._groups.popitem(last=False)
        while self._private and now - self._private[0] >= self._private_window:
            self._private.popleft()
        while self._private_chats:
            latest = next(iter(self._private_chats.values()))[-1]
            if now - latest < self._private_window:
                break
            self._private_chats.popitem(last=False)


_answering_stranger: ContextVar[bool] = ContextVar("answering_stranger", default=False)


@contextlib.contextmanager
def answering_stranger(stranger: bool = True) -> Iterator[None]:
    """Mark what is sent within as a reply to a stranger (if ``stranger``): it is sent last.

    The mark travels with the task (a context variable), down to the rate
    limiter that holds such sends back while the merchant's wait.
    """
    token = _answering_stranger.set(stranger)
    try:
        yield
    finally:
        _answering_stranger.reset(token)


def for_stranger() -> bool:
    """Whether what is being sent now is a reply to a stranger (see :func:`answering_stranger`)."""
    return _answering_stranger.get()
