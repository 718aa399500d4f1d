"""English: the catalog every other language mirrors, key for key."""

from __future__ import annotations

from datetime import date

ENGLISH: dict[str, str] = {
    # /start and /help
    "help": (
        "<b>linkbot</b> issues Omise payment links right in this chat.\n\n"
        "{commands}\n\n"
        "Amounts: <code>74.40</code>, <code>1,250.50</code>, <code>฿74.40</code>, "
        "<code>500 jpy</code>. The currency is optional (default {default_currency}).\n\n"
        "{identity}\n"
        "{authorization}\n"
        "Omise mode: {mode}"
    ),
    # The commands, in /help privately and for the merchant's team in a group
    "help_commands": (
        "<b>Commands</b>\n"
        "/link <code>74.40 thb Hot Latte</code> – a one-time payment link\n"
        "/link <code>74.40 Hot Latte | Oat milk, no sugar</code> – with a description\n"
        "/multilink <code>150 Donation</code> – a link that can be paid many times\n"
        "/links – recent links\n"
        "/status <code>link_…</code> – a link's details and payments (or reply to a link)\n"
        "/cancel <code>link_…</code> – deactivate a link (or reply to a link)\n"
        "/qr <code>link_…</code> – a QR code to pay in person (or reply to a link)\n"
        "/report <code>week</code> – sales: today, yesterday, week, month, a date or a range "
        "(in a group, that group's, sent to you privately, or posted there once it is switched "
        "on with /report <code>here on</code>; in private, all chats)\n"
        "/export <code>month</code> – the payments as a spreadsheet (CSV)\n"
        "/report <code>daily on</code> – a summary every day, here in private\n"
        "/report <code>here on</code> – in a staff-only group: its reports posted there\n"
        "<code>@{bot} 74.40 Hot Latte</code> in any chat – a payment link right there, "
        "even in a chat I am not in (inline mode)"
    ),
    # /help in a group holds no settings: customers read the group too.
    "help_group": (
        "<b>linkbot</b> issues Omise payment links right in this chat.\n\n"
        "{commands}\n\n"
        "Amounts: <code>74.40</code>, <code>1,250.50</code>, <code>฿74.40</code>, "
        "<code>500 jpy</code>. The currency is optional: /help in a private chat with me "
        "tells which one is used then.\n\n"
        "{identity}\n"
        "{authorization}"
    ),
    "help_customer": (
        "<b>linkbot</b> posts the shop's payment links in this chat.\n\n"
        "To pay, tap <b>Pay</b> under a link (or the link itself) and follow the steps on "
        "Omise's secure payment page. A ✅ message here confirms the payment.\n\n"
        "Payment links here are made by the shop's team."
    ),
    "help_id": "Your Telegram id: <code>{user_id}</code>",
    "help_id_group": "To see your Telegram id, send /help in a private chat with me.",
    "authorized": "✅ You may create and manage links.",
    "not_authorized_help": (
        "⛔ You are not authorized to manage links. "
        "Ask the bot's owner to add your id to LINKBOT_ALLOWED_USERS."
    ),
    "mode_test": "test (no real money moves)",
    "mode_live": "live",
    "mode_sandbox": "sandbox (simulated Telegram and Omise on this machine; nothing is real)",
    "not_authorized": "⛔ Only the merchant's authorized users can do that.",
    # Commands that could not be read
    "usage": (
        "Usage: /{command} <code>&lt;amount&gt; [currency] &lt;title&gt; "
        "[| description]</code>\nExample: /{command} <code>74.40 thb Hot Latte</code>"
    ),
    "usage_link_id": (
        "Usage: /{command} <code>link_…</code>, or send /{command} as a reply to a link message."
    ),
    "amount_invalid": "“{text}” is not an amount. Write it like {small} or {large}.",
    "amount_spaced": (
        "“{text}” could be {grouped}, or {first} followed by a title that starts with "
        "{group}. For {grouped}, write {plain} or {grouped}. For {first}, put the "
        "currency after it: /{command} <code>{first} {code} {title}</code>"
    ),
    "amount_spaced_shape": (
        "“{text}” has spaces inside the amount that do not separate thousands. "
        "Write it without spaces, like {small} or {large}."
    ),
    "amount_bidi": (
        "The amount contains invisible marks that change the direction of text, so it may "
        "not be the number you see. Type it again, like /{command} <code>{example}</code>"
    ),
    "currency_not_taken": (
        "Omise does not take {name}. Links can be in {codes}, like /{command} <code>{example}</code>"
    ),
    "currency_ambiguous": (
        "“{word}” can mean more than one currency ({codes}). Write the currency code after "
        "the amount, like /{command} <code>{example}</code>"
    ),
    "currency_subunit": (
        "“{word}” is a hundredth of a currency. Write the amount in whole units, with "
        "decimals if needed, like /{command} <code>{example}</code>"
    ),
    "amount_multiplier": (
        "“{text}” may mean {grouped}. Write the amount in digits, like /{command} "
        "<code>{plain} {code} {title}</code> If “{word}” is part of the title, put the "
        "currency before it: /{command} <code>{number} {code} {word} {title}</code>"
    ),
    "amount_multiplier_currency": (
        "“{text}” may mean {grouped}. Write the amount in digits, like /{command} "
        "<code>{plain} {code} {title}</code>"
    ),
    "currency_unclear": (
        "“{text}” after the amount names a currency in a way the bot cannot read for certain. "
        "Write the currency code after the amount, like /{command} <code>{example}</code>"
    ),
    "amount_ambiguous_separators": (
        "“{text}” is ambiguous. Use a dot for decimals and commas for thousands, like 1,234.56."
    ),
    "amount_too_precise": (
        "“{text}” has too many decimals: {currency} amounts have at most {decimals} decimal places."
    ),
    "amount_dot_thousands": (
        "“{text}” has {places} digits after the dot, but {currency} amounts have at most "
        "{decimals} decimal places. If you mean {grouped}, write {plain} or {grouped}."
    ),
    "amount_dot_thousands_whole": (
        "“{text}” has digits after the dot, but {currency} amounts have no decimals. "
        "If you mean {grouped}, write {plain} or {grouped}."
    ),
    "amount_not_positive": "The amount must be more than zero.",
    "amount_too_large": "That amount is too large (at most {limit}).",
    "currency_conflict": "The amount says {symbol} but the currency says {code}. Pick one.",
    "title_missing": "Add a title after the amount, like: /{command} <code>{example}</code>",
    "title_too_long": "The title is too long (at most {limit} characters).",
    "description_too_long": "The description is too long (at most {limit} characters).",
    "link_id_invalid": (
        "That is not a link id. Link ids look like <code>link_test_5g022xwp823yimkbzdl</code>."
    ),
    # A link
    "link": (
        "<b>{title}</b>\n"
        "{amount} · {kind}\n"
        "{status}"
        '<a href="{payment_uri}">{payment_uri}</a>\n'
        "<code>{link_id}</code>"
    ),
    "kind_once": "one-time",
    "kind_multiple": "reusable",
    "status_line_cancelled": "🚫 Cancelled\n",
    "status_line_paid": "✅ Paid {amount} · {time}\n",
    "status_line_paid_multiple": "✅ {count} payments · {amount} in all\n",
    "button_pay": "Pay {amount}",
    "button_cancel": "Cancel link",
    "button_qr": "QR",
    "button_copy": "Copy link",
    "button_prev": "‹ Newer",
    "button_next": "Older ›",
    # /cancel
    "cancelled": "🚫 Link <code>{link_id}</code> is cancelled; it can no longer be paid.",
    "cancelled_toast": "Link cancelled.",
    "already_cancelled": "Link <code>{link_id}</code> was already cancelled.",
    "already_paid": "Link <code>{link_id}</code> has already been paid, so it cannot be cancelled.",
    "link_not_in_chat": "No link <code>{link_id}</code> was created in this chat.",
    "reply_not_a_link": "That message is not a link I created. Reply to a link message.",
    # /qr
    "qr_caption": "<b>{title}</b> · {amount}\nScan to pay.",
    "qr_cancelled": "Link <code>{link_id}</code> is cancelled, so it has no QR code: it can no longer be paid.",
    "qr_not_sent": "⚠️ I could not post the QR code here: this chat may not allow me to send pictures. Try /qr in a private chat with me.",
    "qr_paid": "Link <code>{link_id}</code> has already been paid, so it has no QR code: it cannot be paid again.",
    # /status
    "details": (
        "<b>{title}</b>\n"
        "{description}"
        "{amount} · {kind} · {status}\n"
        "Created {created}\n"
        "Payments: {count} · paid {paid_total}\n"
        "{payments}"
        '<a href="{payment_uri}">{payment_uri}</a>\n'
        "<code>{link_id}</code>"
    ),
    "details_group": (
        "<b>{title}</b>\n"
        "{amount} · {kind} · {status}\n"
        '<a href="{payment_uri}">{payment_uri}</a>\n'
        "<code>{link_id}</code>\n\n"
        "{told}"
    ),
    "details_description": "<i>{description}</i>\n",
    "details_payment": "• {amount} · {time} · <code>{charge_id}</code>\n",
    "status_active": "active",
    "status_paid": "paid",
    "status_cancelled": "cancelled",
    # /links
    "links_header_chat": "<b>Links from this chat</b>",
    "links_header_business": "<b>Links from your chat with {customer}</b>",
    "links_header_range": " ({first}–{last} of {total})",
    "links_customer_named": "{name}",
    "links_customer_id": "customer <code>{user_id}</code>",
    "links_header_account": "<b>Links on the Omise account</b>",
    "links_item": "{number}. <b>{title}</b> · {amount} · {status}{paid}\n    <code>{link_id}</code>",
    "links_item_paid": " · {count}× paid",
    "links_item_paid_total": " · {count}× paid, {total}",
    "links_item_paid_at": " {time}",
    "links_empty_chat": "No links have been created in this chat yet. Try /link <code>74.40 Hot Latte</code>",
    "links_empty_business": "No links have been created in your chat with {customer} yet. Send /link <code>74.40 Hot Latte</code> there.",
    "links_empty_account": "The Omise account has no links yet. Try /link <code>74.40 Hot Latte</code>",
    "links_page_gone": "That page is empty now.",
    # Paid notifications
    "paid_once": "✅ <b>{title}</b> was paid: {amount} at {time}.",
    "paid_multiple": "✅ <b>{title}</b> was paid: {amount} at {time}. Payment {count}; {total} in all.",
    "payment_failed": "⚠️ <b>{title}</b>: a payment of {amount} did not go through.{payable}",
    "payment_expired": "⚠️ <b>{title}</b>: a payment of {amount} expired before it was completed.{payable}",
    "still_payable": " The link can still be paid.",
    # When the chat a link belongs to cannot be written to (the bot was removed or blocked)
    "chat_closed_link": (
        "⚠️ I could not post this link in the chat where you asked for it: I was removed from "
        "that chat or blocked there. Here it is, to pass on yourself:\n\n{body}"
    ),
    "chat_closed_notice": (
        "⚠️ I can no longer post in the chat where this link was made (I was removed or "
        "blocked there), so I am telling you here:\n\n{body}"
    ),
    # /report and /export
    "period_invalid": (
        "“{text}” is not a period I can report on.\n"
        "Usage: /{command} [period], for example /{command} <code>today</code>, "
        "<code>yesterday</code>, <code>week</code>, <code>month</code>, "
        "<code>2026-11-27</code> or <code>2026-11-01..2026-11-27</code>"
    ),
    "report_title_chat": "📊 <b>Sales in this chat</b> · {period}",
    "report_title_all": "📊 <b>Sales, all chats</b> · {period}",
    "report_title_daily_chat": "🗓 <b>Today in this chat</b> · {period}",
    "report_title_daily_all": "🗓 <b>Today, all chats</b> · {period}",
    "report_title_named": "📊 <b>Sales in {chat}</b> · {period}",
    "report_title_daily_named": "🗓 <b>Today in {chat}</b> · {period}",
    "report_period_day": "{day}",
    "report_period_range": "{first} – {last}",
    "report_currency": (
        "<b>{currency}</b> · {payments} paid\n"
        "Gross: {gross}\n"
        "Fees: {fee}\n"
        "VAT on fees: {fee_vat}\n"
        "Refunded: {refunded}\n"
        "Net: <b>{net}</b>"
    ),
    "report_fees_unknown": "\n<i>Fees not on record for {count} of them: their net is counted as paid.</i>",
    "report_no_payments": "No payments.",
    "report_links": "Links: {created} created · {paid} paid · {open} open · {cancelled} cancelled",
    "report_best_sellers": "<b>Best sellers</b>",
    "report_best_seller": "{number}. {title} · {count}×",
    "report_other_payment": "1 other payment on the Omise account did not come through this bot's links.",
    "report_other_payments": "{count} other payments on the Omise account did not come through this bot's links.",
    "report_empty": "Nothing yet: no payments and no new links.",
    "report_daily_on": "🗓 You will get a summary of all chats here every day at {time}. Stop it with /report <code>daily off</code>.",
    "report_daily_on_unset": (
        "🗓 Noted. The daily summary is switched off on this bot for now "
        "(LINKBOT_DAILY_REPORT is not set); it starts once the bot's owner sets a time."
    ),
    "report_daily_off": "You will no longer get the daily summary.",
    "report_daily_private": (
        "Ask for the daily summary in a private chat with me: /report <code>daily on</code>. "
        "Each group that had payments has its summary sent to the merchant's users privately, "
        "unless the group was switched on with /report <code>here on</code>."
    ),
    "report_daily_usage": "Usage: /report <code>daily on</code> or /report <code>daily off</code>",
    "report_here_on": (
        "📊 From now on, /report and /export in this group are answered here, and its daily "
        "summary is posted here too, for everyone in this group to see. "
        "Stop it with /report <code>here off</code>."
    ),
    "report_here_off": (
        "🔒 From now on, this group's reports go privately to whichever of the shop's "
        "authorized users asks for them, and its daily summary to each of them privately; "
        "this group sees no figures."
    ),
    "report_here_usage": (
        "Usage, in a staff-only group: /report <code>here on</code> to see its reports "
        "there, or /report <code>here off</code> to stop."
    ),
    "report_here_group": (
        "Send /report <code>here on</code> in the staff-only group that should see its own reports."
    ),
    "sent_privately": "📬 Sent to you in our private chat.",
    "sent_privately_unconfirmed": (
        "📬 Sent to you in our private chat, though Telegram did not confirm it. If it is "
        "not there, send the command again here."
    ),
    "private_chat_closed": (
        "📬 I cannot write to you privately yet. Open a private chat with "
        '<a href="https://t.me/{bot}?start=reports">@{bot}</a> and press Start, then send '
        "the command again here."
    ),
    "private_send_failed": (
        "⚠️ I could not reach you in our private chat just now, so nothing was sent. "
        "Please send the command again here in a moment. If you have never opened a "
        'private chat with <a href="https://t.me/{bot}?start=reports">@{bot}</a>, open '
        "it and press Start first."
    ),
    "export_failed": "⚠️ I could not send the file: Telegram did not take it. Try again in a moment.",
    "export_empty": "No payments to export for {period}.",
    "export_not_sent": "⚠️ I could not send the file here: this chat may not allow me to send files. Try /export in a private chat with me.",
    "export_caption": "{count} payment(s) · {period}",
    "export_too_large": (
        "That export is {size} MB, more than Telegram lets a bot send. Choose a shorter period."
    ),
    # The command menu
    "menu_link": "Create a one-time payment link: /link 74.40 thb Hot Latte",
    "menu_multilink": "Create a reusable payment link",
    "menu_links": "List recent links",
    "menu_status": "Show a link's details and payments",
    "menu_cancel": "Cancel a link",
    "menu_qr": "A link's QR code, to pay in person",
    "menu_report": "Sales report: /report today, week, month or a date",
    "menu_export": "Payments as a spreadsheet (CSV)",
    "menu_start": "Start: what this bot does, and your Telegram id",
    "menu_help": "How to use this bot, and your Telegram id",
    # Failures
    "create_unknown": (
        "⚠️ Omise did not confirm the link, and I could not check whether it was created. "
        "It may exist: look at /links before trying again."
    ),
    "create_not_created": (
        "⚠️ Omise did not answer, and no link was created. It is safe to send the command again."
    ),
    "omise_auth": "⚠️ Omise refused the API key. The bot's owner must check OMISE_SECRET_KEY.",
    "omise_auth_group": "⚠️ Omise refused this bot's key. The bot's owner must check the Omise key.",
    "omise_not_found": "That link does not exist on this Omise account.",
    "omise_invalid": "⚠️ Omise refused the request. Omise's message: “{message}”",
    "omise_amount_too_small": "⚠️ Omise refused {amount}: a payment in {currency} must be at least {minimum}.",
    "omise_amount_too_large": "⚠️ Omise refused {amount}: a payment in {currency} can be at most {maximum}.",
    "omise_currency_refused": "⚠️ Omise refused the currency {currency}: this Omise account does not take payments in it.",
    "omise_rate_limited": "⏳ Omise is busy right now. Please try again in a minute.",
    "omise_server": "⚠️ Omise is having trouble right now. Please try again shortly.",
    "omise_timeout": "⚠️ Omise did not answer in time. Please try again shortly.",
    "omise_unreachable": "⚠️ I could not reach Omise. Please try again shortly.",
    "omise_unexpected": "⚠️ Omise answered in a way I did not expect. Please try again shortly.",
    "internal_error": "⚠️ Something went wrong on my side. The bot's owner can find details in the logs.",
    "button_stale": "This button is no longer valid.",
    "edit_ignored": "✏️ I do not carry out edited commands. Send the command again as a new message, for example /link <code>74.40 Hot Latte</code>.",
    # Inline mode: @bot 74.40 thb Hot Latte in any chat
    "button_share": "Share",
    "inline_create_title": "Create payment link — {title} · {amount}",
    "inline_create_hint": "One-time link, created when you send it",
    "inline_creating": (
        "⏳ Creating payment link…\n\n"
        "<i>If this message stays like this, inline feedback is off for this bot: its owner "
        "must set it to 100% in @BotFather (/setinlinefeedback).</i>"
    ),
    "button_creating": "⏳ Creating…",
    "inline_wait_alert": (
        "The link is being created. If this message does not change, the bot's owner must "
        "turn on inline feedback in @BotFather (/setinlinefeedback)."
    ),
    "inline_failed": "⚠️ Could not create this payment link.",
    "inline_problem_title": "⚠️ Cannot create a link",
    "inline_usage": (
        "Type an amount and a title after my name, like "
        "<code>@{bot} 74.40 thb Hot Latte</code> (add <code>| description</code> for a "
        "description), then tap the result to send the link."
    ),
    "inline_share_title": "Share payment link — {title} · {amount}",
    "inline_share_status": "{status} · {link_id}",
    "inline_share_unknown": "No link <code>{link_id}</code> was created through this bot.",
    "inline_share_unknown_title": "⚠️ No such link",
    "inline_share_refused_title": "⚠️ Cannot share this link",
    "inline_share_cancelled": "Link <code>{link_id}</code> is cancelled: it can no longer be paid, so there is nothing to share.",
    "inline_share_paid": "Link <code>{link_id}</code> has already been paid: it cannot be paid again, so there is nothing to share.",
    "inline_share_unchecked": "⚠️ I could not check this link with Omise just now, so I am not offering it. Please try again shortly.",
    "button_inline_access": "Not authorized? Get access",
    "inline_access": (
        "You tried to create a payment link with me in inline mode. Only the merchant's "
        "authorized users can do that.\n\n"
        "Your Telegram id: <code>{user_id}</code>\n"
        "{authorization}"
    ),
    # Telegram Business: the merchant's own chats with customers
    "business_notice": "💬 In your chat with a customer:\n\n{body}",
    "business_window": (
        "⚠️ Telegram would not let me post this link in your chat with the customer: a bot may "
        "reply there only within 24 hours of the customer's last message. Here it is, to send "
        "yourself:\n\n{body}"
    ),
    "business_disabled": (
        "⚠️ I could not post this link in your chat with the customer: your Telegram Business "
        "connection to me is switched off or was removed. Turn it on again in Telegram "
        "Settings → Business → Chatbots. Here is the link, to send yourself:\n\n{body}"
    ),
    "business_no_reply": (
        "⚠️ I could not post this link in your chat with the customer: my Business connection "
        "may not reply to messages. Allow “Reply to messages” in Telegram Settings → Business "
        "→ Chatbots. Here is the link, to send yourself:\n\n{body}"
    ),
    "business_connected": (
        "✅ Connected to your Telegram Business account. In a chat with a customer, send "
        "/link 74.40 Hot Latte and I will post the payment link there for you."
        "{delete}"
    ),
    "business_connected_no_delete": (
        "\nTo have your command replaced by the link, also allow me to delete messages."
    ),
    "business_connected_no_reply": (
        "⚠️ Connected to your Telegram Business account, but I may not reply to messages, so I "
        "cannot post links in your chats. Allow “Reply to messages” in Telegram Settings → "
        "Business → Chatbots."
    ),
    "business_disconnected": (
        "Your Telegram Business account is no longer connected to me; commands in your chats "
        "with customers do nothing until you connect me again."
    ),
    "business_not_authorized": (
        "⛔ You connected me to your Telegram Business account, but you are not authorized to "
        "manage links, so I will not act on commands in your chats. Ask the bot's owner to add "
        "your id (<code>{user_id}</code>) to LINKBOT_ALLOWED_USERS."
    ),
    "business_command_off": (
        "⚠️ I did not act on your command in a chat with a customer: your Telegram Business "
        "connection to me is switched off or was removed. Turn it on again in Telegram "
        "Settings → Business → Chatbots."
    ),
    "business_command_no_reply": (
        "⚠️ I did not act on your command in a chat with a customer: my Business connection "
        "may not reply to messages. Allow “Reply to messages” in Telegram Settings → Business "
        "→ Chatbots."
    ),
    "business_qr_refused": (
        "⚠️ Telegram would not let me post the QR code in your chat with the customer "
        "(a bot may reply there only within 24 hours of the customer's last message, and only "
        "with the right to reply)."
    ),
    # Dates and times
    "day_and_time": "{day} {time}",
    "time_of_day": "{time}",
}


# How a list of items (currency codes) is joined.
LIST_SEPARATOR = ", "


def day_text(day: date) -> str:
    return day.isoformat()
