"""What the bot shows: message text (Telegram HTML) and inline keyboards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from linkbot.bot.messages import Html, text
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


def links_page_data(page: int) -> str:
    return f"links:{page}"


def help_message(
    *,
    user_id: int,
    authorized: bool,
    test_mode: bool,
    default_currency: str,
    sandbox: bool = False,
) -> Reply:
    mode = "mode_sandbox" if sandbox else "mode_test" if test_mode else "mode_live"
    return Reply(
        text(
            "help",
            user_id=user_id,
            authorization=text("authorized" if authorized else "not_authorized_help"),
            mode=text(mode),
            default_currency=default_currency,
        )
    )


def plain(key: str, **params: object) -> Reply:
    return Reply(text(key, **params))


def link_message(record: LinkRecord, zone: ZoneInfo) -> Reply:
    """The message a link lives in; edited as the link is paid or cancelled."""
    amount = format_amount(record.amount, record.currency)
    body = text(
        "link",
        title=record.title,
        amount=amount,
        kind=text("kind_multiple" if record.multiple else "kind_once"),
        status=Html(_status_line(record, zone)),
        payment_uri=record.payment_uri,
        link_id=record.link_id,
    )
    if record.status is LinkStatus.CANCELLED or (
        record.status is LinkStatus.PAID and not record.multiple
    ):
        return Reply(body)
    # Whatever still has a keyboard can still be cancelled: a reusable link stays
    # open after payments.
    tools = [
        InlineKeyboardButton(text("button_qr"), callback_data=qr_data(record.link_id)),
        InlineKeyboardButton(
            text("button_copy"), copy_text=CopyTextButton(text=record.payment_uri)
        ),
        InlineKeyboardButton(text("button_cancel"), callback_data=cancel_data(record.link_id)),
    ]
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(text("button_pay", amount=amount), url=record.payment_uri)],
            tools,
        ]
    )
    return Reply(body, keyboard)


def qr_caption(title: str, amount: int, currency: str) -> str:
    # A dashboard link's title has no cap of ours; a caption holds 1024 characters.
    return text(
        "qr_caption",
        title=_shorten(title, DESCRIPTION_LENGTH),
        amount=format_amount(amount, currency),
    )


def _status_line(record: LinkRecord, zone: ZoneInfo) -> str:
    if record.status is LinkStatus.CANCELLED:
        return text("status_line_cancelled")
    if record.paid_count and record.multiple:
        return text(
            "status_line_paid_multiple",
            count=record.paid_count,
            amount=format_amount(record.paid_total, record.currency),
        )
    if record.paid_count or record.status is LinkStatus.PAID:
        return text(
            "status_line_paid",
            amount=format_amount(record.paid_total or record.amount, record.currency),
            time=_time(record.paid_at, zone),
        )
    return ""


def chat_links(records: list[LinkRecord], total: int, page: int, zone: ZoneInfo) -> Reply:
    if not records:
        return plain("links_page_gone" if page else "links_empty_chat")
    lines = [
        text(
            "links_item",
            number=page * PAGE_SIZE + i + 1,
            title=_shorten(record.title, LIST_TITLE_LENGTH),
            amount=format_amount(record.amount, record.currency),
            status=text(f"status_{record.status.value}"),
            paid=Html(_paid_summary(record, zone)),
            link_id=record.link_id,
        )
        for i, record in enumerate(records)
    ]
    return _page("links_header_chat", lines, total, page)


def account_links(found: AccountLinks, page: int) -> Reply:
    page_of_links = found.page
    if not page_of_links.data:
        return plain("links_page_gone" if page else "links_empty_account")
    lines = [
        text(
            "links_item",
            number=page * PAGE_SIZE + i + 1,
            title=_shorten(link.title, LIST_TITLE_LENGTH),
            amount=format_amount(link.amount, link.currency),
            status=text(f"status_{omise_status(link)}"),
            paid=Html(text("links_item_paid", count=found.paid_counts[link.id]))
            if link.multiple and found.paid_counts.get(link.id)
            else "",
            link_id=link.id,
        )
        for i, link in enumerate(page_of_links.data)
    ]
    return _page("links_header_account", lines, page_of_links.total, page)


def _paid_summary(record: LinkRecord, zone: ZoneInfo) -> str:
    if not record.paid_count:
        return ""
    if record.multiple:
        total = format_amount(record.paid_total, record.currency)
        return text("links_item_paid_total", count=record.paid_count, total=total)
    return text("links_item_paid_at", time=_time(record.paid_at, zone))


def _page(header: str, lines: list[str], total: int, page: int) -> Reply:
    first = page * PAGE_SIZE + 1
    last = page * PAGE_SIZE + len(lines)
    body = text(header, first=first, last=last, total=max(total, last)) + "\n\n" + "\n".join(lines)
    buttons = []
    if page > 0:
        buttons.append(
            InlineKeyboardButton(text("button_prev"), callback_data=links_page_data(page - 1))
        )
    if last < total:
        buttons.append(
            InlineKeyboardButton(text("button_next"), callback_data=links_page_data(page + 1))
        )
    return Reply(body, InlineKeyboardMarkup([buttons]) if buttons else None)


def details(found: LinkDetails, zone: ZoneInfo) -> Reply:
    link = found.link
    payments = "".join(
        text(
            "details_payment",
            amount=format_amount(charge.amount, charge.currency),
            time=_time(charge.paid_at or charge.created_at, zone),
            charge_id=charge.id,
        )
        for charge in found.paid_charges[:PAYMENTS_SHOWN]
    )
    description = (
        text("details_description", description=_shorten(link.description, DESCRIPTION_LENGTH))
        if link.description and link.description != link.title
        else ""
    )
    return Reply(
        text(
            "details",
            title=_shorten(link.title, DESCRIPTION_LENGTH),
            description=Html(description),
            amount=format_amount(link.amount, link.currency),
            kind=text("kind_multiple" if link.multiple else "kind_once"),
            status=text(f"status_{omise_status(link)}"),
            created=_time(link.created_at, zone),
            count=len(found.paid_charges),
            paid_total=format_amount(found.paid_total, link.currency),
            payments=Html(payments),
            payment_uri=link.payment_uri,
            link_id=link.id,
        )
    )


def paid_notice(record: LinkRecord, charge: ChargeRecord, zone: ZoneInfo) -> Reply:
    """The reply to a link message that tells the merchant it was paid."""
    params = {
        "title": record.title,
        "amount": format_amount(charge.amount, charge.currency),
        "time": _time(charge.paid_at or charge.created_at, zone),
    }
    if record.multiple:
        total = format_amount(charge.running_total, charge.currency)
        return plain("paid_multiple", count=charge.position, total=total, **params)
    return plain("paid_once", **params)


def failed_notice(record: LinkRecord, charge: ChargeRecord) -> Reply:
    """Told once when a pending payment ends without the money (declined, expired)."""
    key = "payment_expired" if charge.status == "expired" else "payment_failed"
    payable = record.status is LinkStatus.ACTIVE or (
        record.multiple and record.status is not LinkStatus.CANCELLED
    )
    return plain(
        key,
        title=record.title,
        amount=format_amount(charge.amount, charge.currency),
        payable=Html(text("still_payable")) if payable else "",
    )


def omise_status(link: Link) -> str:
    if link.deleted:
        return LinkStatus.CANCELLED.value
    if link.paid:
        return LinkStatus.PAID.value
    return LinkStatus.ACTIVE.value


def _time(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "–"
    local = moment.astimezone(zone)
    return local.strftime("%H:%M") if _is_today(local, zone) else local.strftime("%Y-%m-%d %H:%M")


def _is_today(local: datetime, zone: ZoneInfo) -> bool:
    return local.date() == datetime.now(zone).date()


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
