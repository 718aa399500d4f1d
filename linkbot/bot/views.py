"""What the bot shows: message text (Telegram HTML) and inline keyboards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from telegram import (
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    SwitchInlineQueryChosenChat,
)

from linkbot.bot.messages import DEFAULT_LANGUAGE, Html, text, time_text
from linkbot.links import PAGE_SIZE, AccountLinks, LinkDetails
from linkbot.money import format_amount
from linkbot.omise import Link
from linkbot.store import ChargeRecord, LinkRecord, LinkStatus

# Titles of links made elsewhere (the dashboard) have no length cap of ours;
# ten of them must still fit one message.
LIST_TITLE_LENGTH = 60
DESCRIPTION_LENGTH = 500
PAYMENTS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    markup: InlineKeyboardMarkup | None = None


def cancel_data(link_id: str) -> str:
    return f"cancel:{link_id}"


def qr_data(link_id: str) -> str:
    return f"qr:{link_id}"


def links_page_data(page: int, scope: str = "") -> str:
    """A page of a list; ``scope`` (``chat:connection tag``) keeps a business chat's list to it."""
    return f"links:{page}:{scope}" if scope else f"links:{page}"


def help_message(
    *,
    user_id: int,
    authorized: bool,
    test_mode: bool,
    default_currency: str,
    language: str = DEFAULT_LANGUAGE,
    sandbox: bool = False,
    bot: str = "YourBot",
    in_group: bool = False,
) -> Reply:
    """What the bot does and who may use it.

    Everyone ``in_group`` reads it, customers too: there it names no one's
    id and none of the bot's settings (its mode and default currency are
    configuration, told in a private chat only), and a customer reads only
    how to pay, without the merchant's commands.
    """
    if in_group and not authorized:
        return plain("help_customer", language)
    commands = Html(text("help_commands", language, bot=bot))
    if in_group:
        return plain(
            "help_group",
            language,
            commands=commands,
            identity=Html(text("help_id_group", language)),
            authorization=Html(text("authorized", language)),
        )
    mode = "mode_sandbox" if sandbox else "mode_test" if test_mode else "mode_live"
    authorization = text("authorized" if authorized else "not_authorized_help", language)
    return plain(
        "help",
        language,
        commands=commands,
        identity=Html(text("help_id", language, user_id=user_id)),
        authorization=Html(authorization),
        mode=text(mode, language),
        default_currency=default_currency,
    )


def plain(key: str, /, language: str = DEFAULT_LANGUAGE, **params: object) -> Reply:
    return Reply(text(key, language, **params))


# Where a link message is: a chat the bot posted in; an inline message (the
# bot may not be in its chat, so it can send no QR picture there); a copy
# shared through inline mode, which the bot does not keep track of.
Place = Literal["chat", "inline", "shared"]


def link_message(
    record: LinkRecord,
    zone: ZoneInfo,
    language: str = DEFAULT_LANGUAGE,
    *,
    place: Place = "chat",
    takings: bool = True,
) -> Reply:
    """The message a link lives in; edited as the link is paid or cancelled.

    Without ``takings`` (a group of customers) a reusable link's message
    tells neither how often it was paid nor what it brought in all. An
    inline message may be in any chat, so it never does.
    """
    takings = takings and place == "chat"
    amount = format_amount(record.amount, record.currency)
    body = text(
        "link",
        language,
        title=record.title,
        amount=amount,
        kind=text("kind_multiple" if record.multiple else "kind_once", language),
        status=Html(_status_line(record, zone, language, takings=takings)),
        payment_uri=record.payment_uri,
        link_id=record.link_id,
    )
    if record.status is LinkStatus.CANCELLED or (
        record.status is LinkStatus.PAID and not record.multiple
    ):
        return Reply(body)
    # Whatever still has a keyboard can still be cancelled: a reusable link stays
    # open after payments.
    pay = InlineKeyboardButton(text("button_pay", language, amount=amount), url=record.payment_uri)
    copy = InlineKeyboardButton(
        text("button_copy", language), copy_text=CopyTextButton(text=record.payment_uri)
    )
    cancel = InlineKeyboardButton(
        text("button_cancel", language), callback_data=cancel_data(record.link_id)
    )
    if place == "shared" or record.business_connection_id is not None:
        # A copy the bot does not follow, or a message posted as the merchant
        # in a chat with a customer, who has nothing to cancel there (the
        # merchant uses /qr and /cancel).
        return Reply(body, InlineKeyboardMarkup([[pay], [copy]]))
    if place == "inline":
        return Reply(body, InlineKeyboardMarkup([[pay], [copy, cancel]]))
    qr = InlineKeyboardButton(text("button_qr", language), callback_data=qr_data(record.link_id))
    return Reply(
        body, InlineKeyboardMarkup([[pay], [qr, copy, cancel], [share_button(record, language)]])
    )


def share_button(record: LinkRecord, language: str = DEFAULT_LANGUAGE) -> InlineKeyboardButton:
    """Opens a chat picker; the chosen chat gets the link through inline mode."""
    return InlineKeyboardButton(
        text("button_share", language),
        switch_inline_query_chosen_chat=SwitchInlineQueryChosenChat(
            query=record.link_id, allow_user_chats=True, allow_group_chats=True
        ),
    )


def qr_caption(title: str, amount: int, currency: str, language: str = DEFAULT_LANGUAGE) -> str:
    # A dashboard link's title has no cap of ours; a caption holds 1024 characters.
    return text(
        "qr_caption",
        language,
        title=_shorten(title, DESCRIPTION_LENGTH),
        amount=format_amount(amount, currency),
    )


def _status_line(record: LinkRecord, zone: ZoneInfo, language: str, *, takings: bool) -> str:
    if record.status is LinkStatus.CANCELLED:
        return text("status_line_cancelled", language)
    if record.multiple and not takings:
        return ""  # still open for the next payment; its count and total are the shop's
    if record.paid_count and record.multiple:
        return text(
            "status_line_paid_multiple",
            language,
            count=record.paid_count,
            amount=format_amount(record.paid_total, record.currency),
        )
    if record.paid_count or record.status is LinkStatus.PAID:
        return text(
            "status_line_paid",
            language,
            amount=format_amount(record.paid_total or record.amount, record.currency),
            time=_time(record.paid_at, zone, language),
        )
    return ""


def chat_links(
    records: list[LinkRecord],
    total: int,
    page: int,
    zone: ZoneInfo,
    language: str = DEFAULT_LANGUAGE,
    *,
    customer: Html | None = None,
    scope: str = "",
    takings: bool = True,
) -> Reply:
    """A chat's links; ``customer`` names the merchant's business chat the list is of.

    Without ``takings`` (a group of customers) reusable links show no payment counts or totals.
    """
    if not records and not page and customer is not None:
        return plain("links_empty_business", language, customer=customer)
    if not records:
        return plain("links_page_gone" if page else "links_empty_chat", language)
    lines = [
        text(
            "links_item",
            language,
            number=page * PAGE_SIZE + i + 1,
            title=_shorten(record.title, LIST_TITLE_LENGTH),
            amount=format_amount(record.amount, record.currency),
            status=text(f"status_{record.status.value}", language),
            paid=Html(
                _paid_summary(record, zone, language) if takings or not record.multiple else ""
            ),
            link_id=record.link_id,
        )
        for i, record in enumerate(records)
    ]
    if customer is not None:
        header = text("links_header_business", language, customer=customer)
        return _page(header, lines, total, page, language, scope)
    return _page(text("links_header_chat", language), lines, total, page, language)


def business_customer(name: str | None, user_id: int, language: str = DEFAULT_LANGUAGE) -> Html:
    """Who a merchant's business chat is with, for the header of its list."""
    if name:
        return Html(text("links_customer_named", language, name=name))
    return Html(text("links_customer_id", language, user_id=user_id))


def account_links(found: AccountLinks, page: int, language: str = DEFAULT_LANGUAGE) -> Reply:
    page_of_links = found.page
    if not page_of_links.data:
        return plain("links_page_gone" if page else "links_empty_account", language)
    lines = [
        text(
            "links_item",
            language,
            number=page * PAGE_SIZE + i + 1,
            title=_shorten(link.title, LIST_TITLE_LENGTH),
            amount=format_amount(link.amount, link.currency),
            status=text(f"status_{omise_status(link)}", language),
            paid=Html(text("links_item_paid", language, count=found.paid_counts[link.id]))
            if link.multiple and found.paid_counts.get(link.id)
            else "",
            link_id=link.id,
        )
        for i, link in enumerate(page_of_links.data)
    ]
    header = text("links_header_account", language)
    return _page(header, lines, page_of_links.total, page, language)


def _paid_summary(record: LinkRecord, zone: ZoneInfo, language: str) -> str:
    if not record.paid_count:
        return ""
    if record.multiple:
        total = format_amount(record.paid_total, record.currency)
        return text("links_item_paid_total", language, count=record.paid_count, total=total)
    return text("links_item_paid_at", language, time=_time(record.paid_at, zone, language))


def _page(
    header: str, lines: list[str], total: int, page: int, language: str, scope: str = ""
) -> Reply:
    first = page * PAGE_SIZE + 1
    last = page * PAGE_SIZE + len(lines)
    counts = text("links_header_range", language, first=first, last=last, total=max(total, last))
    body = f"{header}{counts}\n\n" + "\n".join(lines)
    buttons = []
    if page > 0:
        buttons.append(
            InlineKeyboardButton(
                text("button_prev", language), callback_data=links_page_data(page - 1, scope)
            )
        )
    if last < total:
        buttons.append(
            InlineKeyboardButton(
                text("button_next", language), callback_data=links_page_data(page + 1, scope)
            )
        )
    return Reply(body, InlineKeyboardMarkup([buttons]) if buttons else None)


def details(found: LinkDetails, zone: ZoneInfo, language: str = DEFAULT_LANGUAGE) -> Reply:
    link = found.link
    payments = "".join(
        text(
            "details_payment",
            language,
            amount=format_amount(charge.amount, charge.currency),
            time=_time(charge.paid_at or charge.created_at, zone, language),
            charge_id=charge.id,
        )
        for charge in found.paid_charges[:PAYMENTS_SHOWN]
    )
    description = (
        text(
            "details_description",
            language,
            description=_shorten(link.description, DESCRIPTION_LENGTH),
        )
        if link.description and link.description != link.title
        else ""
    )
    return Reply(
        text(
            "details",
            language,
            title=_shorten(link.title, DESCRIPTION_LENGTH),
            description=Html(description),
            amount=format_amount(link.amount, link.currency),
            kind=text("kind_multiple" if link.multiple else "kind_once", language),
            status=text(f"status_{omise_status(link)}", language),
            created=_time(link.created_at, zone, language),
            count=len(found.paid_charges),
            paid_total=format_amount(found.paid_total, link.currency),
            payments=Html(payments),
            payment_uri=link.payment_uri,
            link_id=link.id,
        )
    )


def link_state(found: LinkDetails, told: Reply, language: str = DEFAULT_LANGUAGE) -> Reply:
    """A link's own state for a group of customers, without its payments; ``told`` says where
    the full details went."""
    link = found.link
    return Reply(
        text(
            "details_group",
            language,
            title=_shorten(link.title, DESCRIPTION_LENGTH),
            amount=format_amount(link.amount, link.currency),
            kind=text("kind_multiple" if link.multiple else "kind_once", language),
            status=text(f"status_{omise_status(link)}", language),
            payment_uri=link.payment_uri,
            link_id=link.id,
            told=Html(told.text),
        )
    )


def paid_notice(
    record: LinkRecord,
    charge: ChargeRecord,
    zone: ZoneInfo,
    language: str = DEFAULT_LANGUAGE,
    *,
    takings: bool = True,
) -> Reply:
    """The reply to a link message that tells the merchant it was paid.

    Without ``takings`` (a group of customers) it tells this payment only,
    not which one it was or the link's total so far.
    """
    params = {
        "title": record.title,
        "amount": format_amount(charge.amount, charge.currency),
        "time": _time(charge.paid_at or charge.created_at, zone, language),
    }
    if record.multiple and takings:
        total = format_amount(charge.running_total, charge.currency)
        return plain("paid_multiple", language, count=charge.position, total=total, **params)
    return plain("paid_once", language, **params)


def failed_notice(
    record: LinkRecord, charge: ChargeRecord, language: str = DEFAULT_LANGUAGE
) -> Reply:
    """Told once when a pending payment ends without the money (declined, expired)."""
    key = "payment_expired" if charge.status == "expired" else "payment_failed"
    payable = record.status is LinkStatus.ACTIVE or (
        record.multiple and record.status is not LinkStatus.CANCELLED
    )
    return plain(
        key,
        language,
        title=record.title,
        amount=format_amount(charge.amount, charge.currency),
        payable=Html(text("still_payable", language)) if payable else "",
    )


def omise_status(link: Link) -> str:
    if link.deleted:
        return LinkStatus.CANCELLED.value
    if link.paid:
        return LinkStatus.PAID.value
    return LinkStatus.ACTIVE.value


def _time(moment: datetime | None, zone: ZoneInfo, language: str) -> str:
    if moment is None:
        return "–"
    local = moment.astimezone(zone)
    return time_text(local, language, today=_is_today(local, zone))


def _is_today(local: datetime, zone: ZoneInfo) -> bool:
    return local.date() == datetime.now(zone).date()


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
