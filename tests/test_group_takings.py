"""A group's customers see links and notices, never the shop's takings or its settings.

A reusable link paid in a group tells each payment, not how many there
were or what they came to; /links and /status there show the links' own
state, and /status sends the payments to the asking merchant privately. A
staff-only group that chose to see its figures (/report here on) sees
them all. What cannot reach the merchant privately is told plainly in the
group, and a setting's name is told only in a private chat.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from linkbot.bot.messages import CATALOG
from linkbot.payments import PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import Store
from tests.conftest import GROUP, MERCHANT, Chat
from tests.databases import ENGINES

# What a reusable link took in all, and each payment of it: none of it may reach a group.
TAKINGS = re.compile(r"฿300|฿450|Payment \d|in all|payments ·|× paid|Payments:|chrg_")
SETTINGS = re.compile(r"LINKBOT_|OMISE_|TELEGRAM_")
CHAT_NOT_FOUND = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
AUTH_REFUSED = {"object": "error", "code": "authentication_failure", "message": "x"}


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def in_chat(telegram: fakes.FakeTelegram, chat_id: int, method: str = "sendMessage") -> list[str]:
    return [str(p.get("text", "")) for p in telegram.sent(method) if p["chat_id"] == str(chat_id)]


async def paid_three_times(chat: Chat, fake_omise: fakes.FakeOmise, watcher: PaymentWatcher) -> str:
    """A reusable ฿150 link made in the group, paid three times, each payment told."""
    await chat.send("/multilink 150 Donation", chat=GROUP)
    link_id = next(iter(fake_omise.links))
    for _ in range(3):
        fake_omise.pay(link_id)
        await watcher.run_pass()
    return link_id


# Paid notices and the link message


async def test_a_groups_notices_tell_each_payment_and_not_the_takings(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    watcher: PaymentWatcher,
) -> None:
    await paid_three_times(chat, fake_omise, watcher)

    notices = [t for t in in_chat(fake_telegram, GROUP["id"]) if "was paid" in t]
    assert len(notices) == 3
    assert all(n.startswith("✅ <b>Donation</b> was paid: ฿150.00 at ") for n in notices)
    edits = in_chat(fake_telegram, GROUP["id"], "editMessageText")
    assert edits and all("<b>Donation</b>\n฿150.00 · reusable" in e for e in edits)
    for said in in_chat(fake_telegram, GROUP["id"]) + edits:
        assert not TAKINGS.search(said), said


async def test_a_staff_group_that_chose_its_figures_sees_the_takings(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    watcher: PaymentWatcher,
) -> None:
    await chat.send("/report here on", chat=GROUP)

    link_id = await paid_three_times(chat, fake_omise, watcher)

    assert "Payment 3; ฿450.00 in all" in in_chat(fake_telegram, GROUP["id"])[-1]
    edits = in_chat(fake_telegram, GROUP["id"], "editMessageText")
    assert "✅ 3 payments · ฿450.00 in all" in edits[-1]
    await chat.send("/links", chat=GROUP)
    assert "3× paid, ฿450.00" in chat.last_text()
    await chat.send(f"/status {link_id}", chat=GROUP)
    assert "Payments: 3 · paid ฿450.00" in chat.last_text()
    assert in_chat(fake_telegram, MERCHANT) == []


# /links and /status


async def test_links_and_status_in_a_group_show_the_links_state_only(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    watcher: PaymentWatcher,
) -> None:
    link_id = await paid_three_times(chat, fake_omise, watcher)

    await chat.send("/links", chat=GROUP)
    listed = chat.last_text()
    assert "<b>Donation</b> · ฿150.00 · active" in listed and not TAKINGS.search(listed)

    fake_telegram.calls.clear()
    await chat.send(f"/status {link_id}", chat=GROUP)
    (told,) = in_chat(fake_telegram, GROUP["id"])
    assert "<b>Donation</b>\n฿150.00 · reusable · active" in told and link_id in told
    assert told.endswith("📬 Sent to you in our private chat.") and not TAKINGS.search(told)
    # The payments go to the merchant who asked, as a report does.
    (private,) = in_chat(fake_telegram, MERCHANT)
    assert "Payments: 3 · paid ฿450.00" in private and private.count("chrg_") == 3


async def test_status_in_a_group_tells_a_merchant_without_a_private_chat_how_to_open_one(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    watcher: PaymentWatcher,
) -> None:
    link_id = await paid_three_times(chat, fake_omise, watcher)
    fake_telegram.never_started(MERCHANT)
    fake_telegram.calls.clear()

    await chat.send(f"/status {link_id}", chat=GROUP)

    (told,) = in_chat(fake_telegram, GROUP["id"])
    assert "press Start" in told and not TAKINGS.search(told)


# Sending privately: every failure is told, and a send that may have arrived is not repeated


async def test_a_report_that_cannot_reach_the_merchant_is_told_in_the_group(
    chat: Chat, fake_telegram: fakes.FakeTelegram
) -> None:
    fake_telegram.fail("sendMessage", status=400, body=CHAT_NOT_FOUND)

    await chat.send("/report", chat=GROUP)

    (told,) = in_chat(fake_telegram, GROUP["id"])
    assert "could not reach you in our private chat just now" in told
    assert "send the command again here" in told and fakes.BOT_USERNAME in told
    assert "฿" not in told and "Sales" not in told


async def test_a_report_whose_answer_was_lost_is_not_sent_twice(
    chat: Chat, fake_telegram: fakes.FakeTelegram
) -> None:
    # Telegram shows the report, then the connection drops before its answer.
    fake_telegram.fail("sendMessage", apply=True, drop=True)

    await chat.send("/report", chat=GROUP)

    # Tried once, and not claimed as certain: the merchant knows to look, and to ask again.
    (report,) = [p for p in fake_telegram.sent() if p["chat_id"] == str(MERCHANT)]
    assert "Sales in" in str(report["text"])
    (told,) = in_chat(fake_telegram, GROUP["id"])
    assert told.startswith("📬 Sent to you in our private chat, though Telegram did not confirm")
    assert "send the command again here" in told and "฿" not in told


async def test_a_report_answered_by_a_gateway_timeout_is_not_sent_twice(
    chat: Chat, fake_telegram: fakes.FakeTelegram
) -> None:
    # A 504: the gateway gave up waiting, and Telegram may yet post the message.
    fake_telegram.fail("sendMessage", status=504, times=3)

    await chat.send("/report", chat=GROUP)

    private = [p for p in fake_telegram.sent("sendMessage") if p["chat_id"] == str(MERCHANT)]
    assert len(private) == 1
    (told,) = in_chat(fake_telegram, GROUP["id"])
    assert "did not confirm" in told and "฿" not in told


# Setting names: only in a private chat


async def test_a_refused_omise_key_names_its_setting_only_privately(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    fake_omise.fail("POST /links", status=401, body=AUTH_REFUSED)
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    assert "The bot's owner must check the Omise key." in chat.last_text()
    assert not SETTINGS.search(chat.last_text())

    fake_omise.fail("POST /links", status=401, body=AUTH_REFUSED)
    await chat.send("/link 74.40 Hot Latte")
    assert "OMISE_SECRET_KEY" in chat.last_text()


@pytest.mark.parametrize("language", ["en", "th", "ja"])
def test_the_answers_a_group_may_get_name_no_setting(language: str) -> None:
    catalog = CATALOG[language]
    for key in (
        "omise_auth_group",
        "help_group",
        "help_customer",
        "help_commands",
        "help_id_group",
    ):
        assert not SETTINGS.search(catalog[key]), key
    for key in ("private_send_failed", "private_chat_closed", "sent_privately", "details_group"):
        assert not SETTINGS.search(catalog[key]), key


# A group that became a supergroup


async def test_the_days_claimed_summaries_follow_a_group_that_became_a_supergroup(
    store: Store,
) -> None:
    day, at = date(2026, 11, 27), datetime.now(UTC)
    assert await store.reports.claim_daily_report(-100, day, at)
    assert await store.reports.claim_private_daily_report(MERCHANT, -100, day, at)
    assert await store.reports.claim_daily_report(-1005, date(2026, 11, 26), at)
    assert await store.reports.claim_private_daily_report(MERCHANT, -1005, day, at)  # already there

    await store.chats.move_chat(-100, -1005)
    await store.chats.move_chat(-100, -1005)  # told twice, as both service messages do

    # The day's summary was claimed under the old id: not again under the new one.
    assert not await store.reports.claim_daily_report(-1005, day, at)
    assert not await store.reports.claim_private_daily_report(MERCHANT, -1005, day, at)
    assert not await store.reports.claim_daily_report(-1005, date(2026, 11, 26), at)
    assert await store.reports.claim_daily_report(-1005, date(2026, 11, 28), at)


# /report here off


@pytest.mark.parametrize(
    ("language", "said", "not_said"),
    [
        ("en", "whichever of the shop's authorized users asks", "whoever asks"),
        ("th", "ผู้ใช้ที่ร้านค้าอนุญาต", "เหมือนเดิม"),
        ("ja", "お店が許可したユーザー", "これまでどおり"),
    ],
)
async def test_turning_a_groups_figures_off_says_where_they_go_now(
    chat: Chat, language: str, said: str, not_said: str
) -> None:
    await chat.send("/report here on", chat=GROUP, language_code=language)
    await chat.send("/report here off", chat=GROUP, language_code=language)
    assert said in chat.last_text() and not_said not in chat.last_text()
