"""Japanese: です/ます throughout, dates as 年月日."""

from __future__ import annotations

from datetime import date

JAPANESE: dict[str, str] = {
    # /start and /help
    "help": (
        "<b>linkbot</b> は、このチャットで Omise の支払いリンクを発行します。\n\n"
        "{commands}\n\n"
        "金額の例: <code>74.40</code>、<code>1,250.50</code>、<code>฿74.40</code>、"
        "<code>500 jpy</code>。通貨は省略できます（既定は {default_currency}）。\n\n"
        "{identity}\n"
        "{authorization}\n"
        "Omise のモード: {mode}"
    ),
    "help_commands": (
        "<b>コマンド</b>\n"
        "/link <code>74.40 thb Hot Latte</code> – 1回限りの支払いリンク\n"
        "/link <code>74.40 Hot Latte | Oat milk, no sugar</code> – 説明付き\n"
        "/multilink <code>150 Donation</code> – 何度でも支払えるリンク\n"
        "/links – 最近のリンク\n"
        "/status <code>link_…</code> – リンクの詳細と支払い（リンクのメッセージへの返信でも可）\n"
        "/cancel <code>link_…</code> – リンクを無効にする（リンクのメッセージへの返信でも可）\n"
        "/qr <code>link_…</code> – 店頭で支払うための QR コード（リンクのメッセージへの返信でも可）\n"
        "/report <code>week</code> – 売上：today、yesterday、week、month、日付または期間"
        "（グループではそのグループの分を個人チャットで受け取り、個人チャットではすべてのチャットの分。"
        "/report <code>here on</code> にしたグループでは、そのグループに表示）\n"
        "/export <code>month</code> – 支払いの一覧をスプレッドシート（CSV）で\n"
        "/report <code>daily on</code> – 毎日のまとめを個人チャットで受け取る\n"
        "/report <code>here on</code> – スタッフだけのグループで、そのグループのレポートをそこに表示する\n"
        "<code>@{bot} 74.40 Hot Latte</code> – どのチャットでもその場に支払いリンクを送信"
        "（ボットが参加していないチャットでも可・インラインモード）"
    ),
    "help_group": (
        "<b>linkbot</b> は、このチャットで Omise の支払いリンクを発行します。\n\n"
        "{commands}\n\n"
        "金額の例: <code>74.40</code>、<code>1,250.50</code>、<code>฿74.40</code>、"
        "<code>500 jpy</code>。通貨は省略できます。省略したときの通貨は、"
        "ボットとの個人チャットで /help と送ると確認できます。\n\n"
        "{identity}\n"
        "{authorization}"
    ),
    "help_customer": (
        "<b>linkbot</b> は、このグループにお店の支払いリンクを投稿します。\n\n"
        "お支払いは、リンクの下の<b>支払う</b>ボタン（またはリンク）をタップし、"
        "Omise の安全な支払いページの案内に沿って進めてください。"
        "お支払いが完了すると、このチャットに ✅ のメッセージが届きます。\n\n"
        "このグループの支払いリンクは、お店のスタッフが作成しています。"
    ),
    "help_id": "あなたの Telegram id: <code>{user_id}</code>",
    "help_id_group": "ご自分の Telegram id は、ボットとの個人チャットで /help と送ると確認できます。",
    "authorized": "✅ リンクの作成と管理ができます。",
    "not_authorized_help": (
        "⛔ リンクを管理する権限がありません。"
        "ボットの管理者に、あなたの id を LINKBOT_ALLOWED_USERS に追加するよう依頼してください。"
    ),
    "mode_test": "テスト（実際のお金は動きません）",
    "mode_live": "本番",
    "mode_sandbox": "サンドボックス（このマシン上で Telegram と Omise を模擬しています。実際には何も起きません）",
    "not_authorized": "⛔ この操作は、お店が許可したユーザーのみ行えます。",
    # Commands that could not be read
    "usage": (
        "使い方: /{command} <code>&lt;金額&gt; [通貨] &lt;商品名&gt; "
        "[| 説明]</code>\n例: /{command} <code>74.40 thb Hot Latte</code>"
    ),
    "usage_link_id": (
        "使い方: /{command} <code>link_…</code>、"
        "またはリンクのメッセージに返信して /{command} を送ってください。"
    ),
    "amount_invalid": "「{text}」は金額として読めません。{small} や {large} のように書いてください。",
    "amount_spaced": (
        "「{text}」は {grouped} とも、{first} の後に {group} で始まる商品名が続くとも読めます。金額が {grouped} なら "
        "{plain} または {grouped} と書いてください。金額が {first} なら、{first} の直後に通貨を入れてください。"
        "例：/{command} <code>{first} {code} {title}</code>"
    ),
    "amount_spaced_shape": (
        "「{text}」の金額の途中に、3桁区切りではない空白が入っています。空白を入れずに {small} や {large} のように書いてください。"
    ),
    "amount_bidi": (
        "金額に、文字の向きを変える目に見えない記号が含まれているため、実際の金額が表示と異なるおそれがあります。金額を入力し直してください。例：/{command} "
        "<code>{example}</code>"
    ),
    "currency_not_taken": (
        "Omise は {name} を取り扱っていません。リンクに使える通貨は {codes} です。"
        "例：/{command} <code>{example}</code>"
    ),
    "currency_ambiguous": (
        "「{word}」は複数の通貨（{codes}）を指すことがあります。"
        "金額の後に通貨コードを書いてください。例：/{command} <code>{example}</code>"
    ),
    "currency_subunit": (
        "「{word}」は通貨の100分の1にあたる補助単位です。金額は基本の単位で、必要なら小数を使って書いてください。例：/{command} "
        "<code>{example}</code>"
    ),
    "amount_multiplier": (
        "「{text}」は {grouped} という意味かもしれません。金額はすべて数字で書いてください。例：/{command} <code>{plain} "
        "{code} {title}</code>　「{word}」が商品名の一部なら、「{word}」の前に通貨コードを入れてください。例：/{command} "
        "<code>{number} {code} {word} {title}</code>"
    ),
    "amount_multiplier_currency": (
        "「{text}」は {grouped} という意味かもしれません。金額はすべて数字で書いてください。例：/{command} <code>{plain} "
        "{code} {title}</code>"
    ),
    "currency_unclear": (
        "金額の後の「{text}」からは、どの通貨か確実に読み取れません。金額の後に通貨コードを書いてください。例：/{command} "
        "<code>{example}</code>"
    ),
    "amount_ambiguous_separators": (
        "「{text}」はどちらの意味にも読めます。小数点にはドット、"
        "桁区切りにはカンマを使ってください（例: 1,234.56）。"
    ),
    "amount_too_precise": (
        "「{text}」は小数の桁が多すぎます。{currency} の金額は小数点以下 {decimals} 桁までです。"
    ),
    "amount_dot_thousands": (
        "「{text}」はドットの後に {places} 桁ありますが、{currency} の金額は小数点以下 "
        "{decimals} 桁までです。{grouped} のつもりなら、{plain} または {grouped} と書いてください。"
    ),
    "amount_dot_thousands_whole": (
        "「{text}」はドットの後に数字がありますが、{currency} の金額に小数はありません。"
        "{grouped} のつもりなら、{plain} または {grouped} と書いてください。"
    ),
    "amount_not_positive": "金額は 0 より大きくしてください。",
    "amount_too_large": "金額が大きすぎます（上限 {limit}）。",
    "currency_conflict": (
        "金額には {symbol} とありますが、通貨は {code} になっています。どちらか一方にしてください。"
    ),
    "title_missing": "金額の後に商品名を入れてください。例：/{command} <code>{example}</code>",
    "title_too_long": "商品名が長すぎます（{limit} 文字まで）。",
    "description_too_long": "説明が長すぎます（{limit} 文字まで）。",
    "link_id_invalid": (
        "リンク id ではありません。リンク id は "
        "<code>link_test_5g022xwp823yimkbzdl</code> のような形です。"
    ),
    # A link
    "link": (
        "<b>{title}</b>\n"
        "{amount} · {kind}\n"
        "{status}"
        '<a href="{payment_uri}">{payment_uri}</a>\n'
        "<code>{link_id}</code>"
    ),
    "kind_once": "1回限り",
    "kind_multiple": "繰り返し利用可",
    "status_line_cancelled": "🚫 キャンセル済み\n",
    "status_line_paid": "✅ 支払い済み {amount} · {time}\n",
    "status_line_paid_multiple": "✅ 支払い {count} 件 · 合計 {amount}\n",
    "button_pay": "{amount} を支払う",
    "button_cancel": "リンクをキャンセル",
    "button_qr": "QR",
    "button_copy": "リンクをコピー",
    "button_prev": "‹ 新しいリンク",
    "button_next": "古いリンク ›",
    # /cancel
    "cancelled": "🚫 リンク <code>{link_id}</code> をキャンセルしました。今後このリンクでは支払えません。",
    "cancelled_toast": "リンクをキャンセルしました。",
    "already_cancelled": "リンク <code>{link_id}</code> はすでにキャンセルされています。",
    "already_paid": "リンク <code>{link_id}</code> は支払い済みのため、キャンセルできません。",
    "link_not_in_chat": "このチャットで作成されたリンク <code>{link_id}</code> はありません。",
    "reply_not_a_link": (
        "そのメッセージは、このボットが作成したリンクではありません。"
        "リンクのメッセージに返信してください。"
    ),
    # /qr
    "qr_caption": "<b>{title}</b> · {amount}\nスキャンしてお支払いください。",
    "qr_cancelled": (
        "リンク <code>{link_id}</code> はキャンセル済みのため、QR コードはありません。"
        "このリンクではもう支払えません。"
    ),
    "qr_not_sent": (
        "⚠️ このチャットに QR コードを送れませんでした。画像の送信が許可されていない可能性があります。"
        "ボットとの個人チャットで /qr をお試しください。"
    ),
    "qr_paid": (
        "リンク <code>{link_id}</code> は支払い済みのため、QR コードはありません。"
        "もう一度支払うことはできません。"
    ),
    # /status
    "details": (
        "<b>{title}</b>\n"
        "{description}"
        "{amount} · {kind} · {status}\n"
        "作成日時 {created}\n"
        "支払い: {count} 件 · 支払い済み {paid_total}\n"
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
    "status_active": "有効",
    "status_paid": "支払い済み",
    "status_cancelled": "キャンセル済み",
    # /links
    "links_header_chat": "<b>このチャットのリンク</b>",
    "links_header_business": "<b>{customer}とのチャットのリンク</b>",
    "links_header_range": "（{total} 件中 {first}–{last}）",
    "links_customer_named": "{name}さん",
    "links_customer_id": "お客様（ID <code>{user_id}</code>）",
    "links_header_account": "<b>Omise アカウントのリンク</b>",
    "links_item": "{number}. <b>{title}</b> · {amount} · {status}{paid}\n    <code>{link_id}</code>",
    "links_item_paid": " · 支払い {count} 件",
    "links_item_paid_total": " · 支払い {count} 件、合計 {total}",
    "links_item_paid_at": " {time}",
    "links_empty_chat": (
        "このチャットで作成されたリンクはまだありません。"
        "/link <code>74.40 Hot Latte</code> をお試しください。"
    ),
    "links_empty_business": "{customer}とのチャットで作成されたリンクはまだありません。そのチャットで /link <code>74.40 Hot Latte</code> を送ってください。",
    "links_empty_account": (
        "Omise アカウントにリンクはまだありません。"
        "/link <code>74.40 Hot Latte</code> をお試しください。"
    ),
    "links_page_gone": "このページにはもう何もありません。",
    # Paid notifications
    "paid_once": "✅ <b>{title}</b> の支払いがありました: {amount}（{time}）",
    "paid_multiple": (
        "✅ <b>{title}</b> の支払いがありました: {amount}（{time}）。{count} 件目、合計 {total} です。"
    ),
    "payment_failed": "⚠️ <b>{title}</b>: {amount} の支払いは完了しませんでした。{payable}",
    "payment_expired": "⚠️ <b>{title}</b>: {amount} の支払いは完了する前に期限切れになりました。{payable}",
    "still_payable": "このリンクは引き続き支払いに使えます。",
    # When the chat a link belongs to cannot be written to (the bot was removed or blocked)
    "chat_closed_link": (
        "⚠️ ご依頼のチャットにこのリンクを投稿できませんでした。ボットがそのチャットから"
        "削除されたか、ブロックされています。こちらのリンクをご自身で共有してください:\n\n{body}"
    ),
    "chat_closed_notice": (
        "⚠️ このリンクを作成したチャットに投稿できなくなりました（ボットが削除されたか、"
        "ブロックされています）。そのため、こちらでお知らせします:\n\n{body}"
    ),
    # /report and /export
    "period_invalid": (
        "「{text}」はレポートの期間として読めません。\n"
        "使い方: /{command} [期間]。例: /{command} <code>today</code>、"
        "<code>yesterday</code>、<code>week</code>、<code>month</code>、"
        "<code>2026-11-27</code>、<code>2026-11-01..2026-11-27</code>"
    ),
    "report_title_chat": "📊 <b>このチャットの売上</b> · {period}",
    "report_title_all": "📊 <b>全チャットの売上</b> · {period}",
    "report_title_daily_chat": "🗓 <b>このチャットの本日のまとめ</b> · {period}",
    "report_title_daily_all": "🗓 <b>全チャットの本日のまとめ</b> · {period}",
    "report_title_named": "📊 <b>{chat} の売上</b> · {period}",
    "report_title_daily_named": "🗓 <b>{chat} の本日のまとめ</b> · {period}",
    "report_period_day": "{day}",
    "report_period_range": "{first}～{last}",
    "report_currency": (
        "<b>{currency}</b> · 支払い {payments} 件\n"
        "売上総額: {gross}\n"
        "手数料: {fee}\n"
        "手数料の VAT: {fee_vat}\n"
        "返金: {refunded}\n"
        "純額: <b>{net}</b>"
    ),
    "report_fees_unknown": (
        "\n<i>うち {count} 件は手数料の記録がないため、支払額をそのまま純額に含めています。</i>"
    ),
    "report_no_payments": "支払いはありません。",
    "report_links": (
        "リンク: 作成 {created} · 支払い済み {paid} · 未払い {open} · キャンセル {cancelled}"
    ),
    "report_best_sellers": "<b>売れ筋</b>",
    "report_best_seller": "{number}. {title} · {count} 件",
    "report_other_payment": "Omise アカウントには、このボットのリンク以外からの支払いが 1 件あります。",
    "report_other_payments": (
        "Omise アカウントには、このボットのリンク以外からの支払いが {count} 件あります。"
    ),
    "report_empty": "まだ何もありません。支払いも新しいリンクもありません。",
    "report_daily_on": (
        "🗓 毎日 {time} に、全チャットのまとめをここにお送りします。"
        "停止するには /report <code>daily off</code> を送ってください。"
    ),
    "report_daily_on_unset": (
        "🗓 承知しました。ただし現在、このボットでは毎日のまとめがオフになっています"
        "（LINKBOT_DAILY_REPORT が未設定）。ボットの管理者が時刻を設定すると届くようになります。"
    ),
    "report_daily_off": "毎日のまとめの送信を停止しました。",
    "report_daily_private": (
        "毎日のまとめは、ボットとの個人チャットで /report <code>daily on</code> と送って申し込んでください。"
        "支払いがあったグループの毎日のまとめは、お店が許可したユーザーに個人チャットでお送りします（/report <code>here on</code> "
        "にしたグループでは、そのグループに投稿します）。"
    ),
    "report_daily_usage": "使い方: /report <code>daily on</code> または /report <code>daily off</code>",
    "report_here_on": (
        "📊 今後は、このグループで送られた /report と /export にはこのグループで返信し、毎日のまとめもこのグループに投稿します。"
        "グループのメンバー全員が見られます。停止するには /report <code>here off</code> を送ってください。"
    ),
    "report_here_off": (
        "🔒 今後は、このグループのレポートは依頼した人（お店が許可したユーザー）に個人チャットでお送りし、"
        "毎日のまとめもお店が許可したユーザー全員にそれぞれ個人チャットでお送りします。このグループには売上の数字を表示しません。"
    ),
    "report_here_usage": (
        "使い方（スタッフだけのグループで）：このグループでレポートを見るには /report <code>here on</code>、やめるには /report "
        "<code>here off</code> を送ってください。"
    ),
    "report_here_group": (
        "レポートを表示したいスタッフだけのグループで、/report <code>here on</code> と送ってください。"
    ),
    "sent_privately": "📬 個人チャットでお送りしました。",
    "sent_privately_unconfirmed": (
        "📬 個人チャットにお送りしましたが、Telegram から送信完了の確認がありませんでした。届いていない場合は、もう一度ここでコマンドを送ってください。"
    ),
    "private_chat_closed": (
        '📬 まだ個人チャットにメッセージをお送りできません。<a href="https://t.me/{bot}?start=reports">@{bot}</a> '
        "との個人チャットを開いて「開始」（Start）を押してから、もう一度ここでコマンドを送ってください。"
    ),
    "private_send_failed": (
        "⚠️ 個人チャットにメッセージをお送りできなかったため、何もお送りしていません。しばらくしてから、もう一度ここでコマンドを送ってください。"
        '<a href="https://t.me/{bot}?start=reports">@{bot}</a> との個人チャットをまだ開いていない場合は、'
        "先に開いて「開始」（Start）を押してください。"
    ),
    "export_failed": (
        "⚠️ Telegram がファイルを受け付けなかったため、送信できませんでした。しばらくしてからもう一度お試しください。"
    ),
    "export_empty": "{period} にエクスポートする支払いはありません。",
    "export_not_sent": "⚠️ このチャットにはファイルを送れませんでした。ボットにファイルの送信が許可されていない可能性があります。ボットとの個人チャットで /export をお試しください。",
    "export_caption": "支払い {count} 件 · {period}",
    "export_too_large": (
        "このエクスポートは {size} MB あり、Telegram でボットが送れるサイズを超えています。"
        "期間を短くしてください。"
    ),
    # The command menu
    "menu_link": "1回限りの支払いリンクを作成: /link 74.40 thb Hot Latte",
    "menu_multilink": "繰り返し使える支払いリンクを作成",
    "menu_links": "最近のリンクを表示",
    "menu_status": "リンクの詳細と支払いを表示",
    "menu_cancel": "リンクをキャンセル",
    "menu_qr": "店頭で支払うためのリンクの QR コード",
    "menu_report": "売上レポート: /report today、week、month または日付",
    "menu_export": "支払いの一覧をスプレッドシート（CSV）で",
    "menu_start": "はじめに: このボットでできることと、あなたの Telegram id",
    "menu_help": "このボットの使い方と、あなたの Telegram id",
    # Failures
    "create_unknown": (
        "⚠️ Omise からリンク作成の確認がなく、作成されたかどうかも確認できませんでした。"
        "作成されている可能性があるため、やり直す前に /links をご確認ください。"
    ),
    "create_not_created": (
        "⚠️ Omise から応答がなく、リンクは作成されていません。もう一度コマンドを送っても問題ありません。"
    ),
    "omise_auth": "⚠️ Omise が API キーを拒否しました。ボットの管理者は OMISE_SECRET_KEY を確認してください。",
    "omise_auth_group": "⚠️ Omise がこのボットのキーを拒否しました。ボットの管理者は Omise のキーを確認してください。",
    "omise_not_found": "このリンクは、この Omise アカウントに存在しません。",
    "omise_invalid": "⚠️ Omise にリクエストを拒否されました。Omise からのメッセージ:「{message}」",
    "omise_amount_too_small": "⚠️ Omise が {amount} を拒否しました。{currency} の支払いは {minimum} 以上である必要があります。",
    "omise_amount_too_large": "⚠️ Omise が {amount} を拒否しました。{currency} の支払いの上限は {maximum} です。",
    "omise_currency_refused": "⚠️ Omise が通貨 {currency} を拒否しました。この Omise アカウントではこの通貨の支払いを受け付けていません。",
    "omise_rate_limited": "⏳ Omise が混み合っています。1分ほどしてからもう一度お試しください。",
    "omise_server": "⚠️ Omise で障害が発生しています。しばらくしてからもう一度お試しください。",
    "omise_timeout": "⚠️ Omise から時間内に応答がありませんでした。しばらくしてからもう一度お試しください。",
    "omise_unreachable": "⚠️ Omise に接続できませんでした。しばらくしてからもう一度お試しください。",
    "omise_unexpected": "⚠️ Omise から想定外の応答がありました。しばらくしてからもう一度お試しください。",
    "internal_error": "⚠️ ボット側でエラーが発生しました。ボットの管理者はログで詳細を確認できます。",
    "button_stale": "このボタンはもう使えません。",
    "edit_ignored": "✏️ 編集されたコマンドは実行しません。新しいメッセージとしてコマンドを送り直してください（例: /link <code>74.40 Hot Latte</code>）。",
    # Inline mode: @bot 74.40 thb Hot Latte in any chat
    "button_share": "共有",
    "inline_create_title": "支払いリンクを作成 — {title} · {amount}",
    "inline_create_hint": "1回限りのリンク。送信したときに作成されます",
    "inline_creating": (
        "⏳ 支払いリンクを作成しています…\n\n"
        "<i>このメッセージが変わらない場合は、このボットのインラインフィードバックがオフになっています。"
        "ボットの管理者が @BotFather で 100% に設定してください（/setinlinefeedback）。</i>"
    ),
    "button_creating": "⏳ 作成中…",
    "inline_wait_alert": (
        "リンクを作成しています。このメッセージが変わらない場合は、ボットの管理者が "
        "@BotFather でインラインフィードバックをオンにしてください（/setinlinefeedback）。"
    ),
    "inline_failed": "⚠️ この支払いリンクを作成できませんでした。",
    "inline_problem_title": "⚠️ リンクを作成できません",
    "inline_usage": (
        "ボット名のあとに金額と商品名を入力してください。例: "
        "<code>@{bot} 74.40 thb Hot Latte</code>（説明を付けるには <code>| 説明</code> を追加）。"
        "結果をタップするとリンクが送信されます。"
    ),
    "inline_share_title": "支払いリンクを共有 — {title} · {amount}",
    "inline_share_status": "{status} · {link_id}",
    "inline_share_unknown": "リンク <code>{link_id}</code> はこのボットで作成されたものではありません。",
    "inline_share_unknown_title": "⚠️ リンクが見つかりません",
    "inline_share_refused_title": "⚠️ このリンクは共有できません",
    "inline_share_cancelled": "リンク <code>{link_id}</code> はキャンセル済みで、もう支払いできないため共有できません。",
    "inline_share_paid": "リンク <code>{link_id}</code> は支払い済みで、再度の支払いはできないため共有できません。",
    "inline_share_unchecked": "⚠️ 今は Omise でこのリンクを確認できないため、共有の候補に出していません。しばらくしてからもう一度お試しください。",
    "button_inline_access": "権限がありません: 利用方法",
    "inline_access": (
        "インラインモードで支払いリンクを作成しようとしました。"
        "この操作は、お店が許可したユーザーのみ行えます。\n\n"
        "あなたの Telegram id: <code>{user_id}</code>\n"
        "{authorization}"
    ),
    # Telegram Business: the merchant's own chats with customers
    "business_notice": "💬 お客様とのチャットで:\n\n{body}",
    "business_window": (
        "⚠️ Telegram の制限により、このリンクをお客様とのチャットに投稿できませんでした。"
        "ボットが返信できるのは、お客様の最後のメッセージから 24 時間以内だけです。"
        "ご自身で送れるよう、リンクをこちらに送ります:\n\n{body}"
    ),
    "business_disabled": (
        "⚠️ このリンクをお客様とのチャットに投稿できませんでした。Telegram Business の"
        "ボット接続がオフになっているか、削除されています。Telegram の設定 → Telegram Business → "
        "チャットボット（Settings → Business → Chatbots）でもう一度オンにしてください。ご自身で送れるよう、リンクをこちらに送ります:"
        "\n\n{body}"
    ),
    "business_no_reply": (
        "⚠️ このリンクをお客様とのチャットに投稿できませんでした。Business 接続に"
        "メッセージへの返信が許可されていません。Telegram の設定 → Telegram Business → "
        "チャットボット（Settings → Business → Chatbots）で「メッセージに返信」（Reply to messages）を許可してください。ご自身で送れるよう、"
        "リンクをこちらに送ります:\n\n{body}"
    ),
    "business_connected": (
        "✅ Telegram Business アカウントに接続しました。お客様とのチャットで "
        "/link 74.40 Hot Latte と送ると、そのチャットに支払いリンクを投稿します。"
        "{delete}"
    ),
    "business_connected_no_delete": (
        "\nコマンドのメッセージをリンクに置き換えるには、メッセージの削除も許可してください。"
    ),
    "business_connected_no_reply": (
        "⚠️ Telegram Business アカウントに接続しましたが、メッセージへの返信が許可されていないため、"
        "チャットにリンクを投稿できません。Telegram の設定 → Telegram Business → チャットボット（Settings → Business → Chatbots）で"
        "「メッセージに返信」（Reply to messages）を許可してください。"
    ),
    "business_disconnected": (
        "Telegram Business アカウントとの接続が解除されました。もう一度接続するまで、"
        "お客様とのチャットでのコマンドには反応しません。"
    ),
    "business_not_authorized": (
        "⛔ Telegram Business アカウントに接続されましたが、リンクを管理する権限がないため、"
        "チャットでのコマンドには反応しません。ボットの管理者に、あなたの id"
        "（<code>{user_id}</code>）を LINKBOT_ALLOWED_USERS に追加するよう依頼してください。"
    ),
    "business_command_off": (
        "⚠️ お客様とのチャットでのコマンドを実行しませんでした。Telegram Business のボット接続が"
        "オフになっているか、削除されています。Telegram の設定 → Telegram Business → "
        "チャットボット（Settings → Business → Chatbots）でもう一度オンにしてください。"
    ),
    "business_command_no_reply": (
        "⚠️ お客様とのチャットでのコマンドを実行しませんでした。Business 接続にメッセージへの"
        "返信が許可されていません。Telegram の設定 → Telegram Business → チャットボット（Settings → Business → Chatbots）で"
        "「メッセージに返信」（Reply to messages）を許可してください。"
    ),
    "business_qr_refused": (
        "⚠️ Telegram の制限により、QR コードをお客様とのチャットに投稿できませんでした"
        "（ボットが返信できるのは、お客様の最後のメッセージから 24 時間以内で、"
        "返信が許可されている場合だけです）。"
    ),
    # Dates and times
    "day_and_time": "{day} {time}",
    "time_of_day": "{time}",
}


# How a list of items (currency codes) is joined.
LIST_SEPARATOR = "、"


def day_text(day: date) -> str:
    """``2026年11月27日``."""
    return f"{day.year}年{day.month}月{day.day}日"
