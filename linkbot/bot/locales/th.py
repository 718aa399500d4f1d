"""Thai: polite, gender-neutral shop language (no ครับ/ค่ะ), dates in the Buddhist era."""

from __future__ import annotations

from datetime import date

THAI: dict[str, str] = {
    # /start and /help
    "help": (
        "<b>linkbot</b> สร้างลิงก์รับชำระเงินของ Omise ได้ในแชทนี้เลย\n\n"
        "{commands}\n\n"
        "จำนวนเงิน: <code>74.40</code>, <code>1,250.50</code>, <code>฿74.40</code>, "
        "<code>500 jpy</code> จะระบุสกุลเงินหรือไม่ก็ได้ (ค่าเริ่มต้น {default_currency})\n\n"
        "{identity}\n"
        "{authorization}\n"
        "โหมด Omise: {mode}"
    ),
    "help_commands": (
        "<b>คำสั่ง</b>\n"
        "/link <code>74.40 thb Hot Latte</code> – ลิงก์ชำระเงินแบบใช้ครั้งเดียว\n"
        "/link <code>74.40 Hot Latte | Oat milk, no sugar</code> – พร้อมรายละเอียด\n"
        "/multilink <code>150 Donation</code> – ลิงก์ที่ชำระได้หลายครั้ง\n"
        "/links – ลิงก์ล่าสุด\n"
        "/status <code>link_…</code> – รายละเอียดและการชำระเงินของลิงก์ (หรือตอบกลับข้อความลิงก์)\n"
        "/cancel <code>link_…</code> – ปิดใช้งานลิงก์ (หรือตอบกลับข้อความลิงก์)\n"
        "/qr <code>link_…</code> – QR code สำหรับชำระเงินที่หน้าร้าน (หรือตอบกลับข้อความลิงก์)\n"
        "/report <code>week</code> – ยอดขาย: today, yesterday, week, month, วันที่ หรือช่วงวันที่ "
        "(ถ้าสั่งในกลุ่ม จะได้ยอดของกลุ่มนั้นทางแชทส่วนตัว เว้นแต่กลุ่มที่เปิด "
        "/report <code>here on</code> ไว้ บอทจะโพสต์ในกลุ่มนั้น ถ้าสั่งในแชทส่วนตัว จะได้ยอดทุกแชท)\n"
        "/export <code>month</code> – รายการชำระเงินเป็นไฟล์สเปรดชีต (CSV)\n"
        "/report <code>daily on</code> – รับสรุปยอดทุกวันทางแชทส่วนตัว\n"
        "/report <code>here on</code> – ในกลุ่มที่มีแต่ทีมงาน: ให้บอทโพสต์รายงานของกลุ่มไว้ในกลุ่มนั้น\n"
        "<code>@{bot} 74.40 Hot Latte</code> ในแชทใดก็ได้ – ส่งลิงก์ชำระเงินลงในแชทนั้นได้ทันที "
        "แม้ในแชทที่ไม่มีบอทอยู่ (โหมดอินไลน์)"
    ),
    "help_group": (
        "<b>linkbot</b> สร้างลิงก์รับชำระเงินของ Omise ได้ในแชทนี้เลย\n\n"
        "{commands}\n\n"
        "จำนวนเงิน: <code>74.40</code>, <code>1,250.50</code>, <code>฿74.40</code>, "
        "<code>500 jpy</code> จะระบุสกุลเงินหรือไม่ก็ได้ ส่ง /help ในแชทส่วนตัวกับบอท "
        "เพื่อดูว่าจะใช้สกุลเงินใดเมื่อไม่ได้ระบุ\n\n"
        "{identity}\n"
        "{authorization}"
    ),
    "help_customer": (
        "<b>linkbot</b> ส่งลิงก์ชำระเงินของร้านในแชทนี้\n\n"
        "หากต้องการชำระเงิน กรุณาแตะปุ่ม <b>ชำระ</b> ใต้ลิงก์ (หรือแตะที่ลิงก์) "
        "แล้วทำตามขั้นตอนในหน้าชำระเงินที่ปลอดภัยของ Omise เมื่อชำระเรียบร้อยแล้ว "
        "จะมีข้อความ ✅ ยืนยันในแชทนี้\n\n"
        "ลิงก์ชำระเงินในแชทนี้สร้างโดยทีมงานของร้าน"
    ),
    "help_id": "Telegram id ของคุณ: <code>{user_id}</code>",
    "help_id_group": "หากต้องการดู Telegram id ของคุณ กรุณาส่ง /help ในแชทส่วนตัวกับบอท",
    "authorized": "✅ คุณสร้างและจัดการลิงก์ได้",
    "not_authorized_help": (
        "⛔ คุณยังไม่มีสิทธิ์จัดการลิงก์ กรุณาขอให้เจ้าของบอทเพิ่ม id ของคุณใน LINKBOT_ALLOWED_USERS"
    ),
    "mode_test": "ทดสอบ (ไม่มีการตัดเงินจริง)",
    "mode_live": "ใช้งานจริง",
    "mode_sandbox": "แซนด์บ็อกซ์ (จำลอง Telegram และ Omise บนเครื่องนี้ ไม่มีอะไรเกิดขึ้นจริง)",
    "not_authorized": "⛔ เฉพาะผู้ใช้ที่ร้านค้าอนุญาตเท่านั้นที่ทำรายการนี้ได้",
    # Commands that could not be read
    "usage": (
        "วิธีใช้: /{command} <code>&lt;จำนวนเงิน&gt; [สกุลเงิน] &lt;ชื่อรายการ&gt; "
        "[| รายละเอียด]</code>\nตัวอย่าง: /{command} <code>74.40 thb Hot Latte</code>"
    ),
    "usage_link_id": (
        "วิธีใช้: /{command} <code>link_…</code> หรือส่ง /{command} เป็นการตอบกลับข้อความลิงก์"
    ),
    "amount_invalid": "“{text}” ไม่ใช่จำนวนเงิน กรุณาเขียนแบบ {small} หรือ {large}",
    "amount_spaced": (
        "“{text}” อาจหมายถึง {grouped} หรือหมายถึง {first} "
        "แล้วตามด้วยชื่อรายการที่ขึ้นต้นด้วย “{group}” ก็ได้ หากหมายถึง {grouped} "
        "กรุณาเขียนเป็น {plain} หรือ {grouped} หากหมายถึง {first} กรุณาใส่สกุลเงินต่อจาก "
        "{first} เช่น /{command} <code>{first} {code} {title}</code>"
    ),
    "amount_spaced_shape": (
        "“{text}” มีการเว้นวรรคอยู่กลางจำนวนเงิน ซึ่งไม่ใช่การคั่นหลักพัน "
        "กรุณาเขียนติดกันโดยไม่เว้นวรรค เช่น {small} หรือ {large}"
    ),
    "amount_bidi": (
        "จำนวนเงินมีเครื่องหมายที่มองไม่เห็นซึ่งเปลี่ยนทิศทางของข้อความ "
        "จำนวนเงินจริงจึงอาจไม่ตรงกับตัวเลขที่เห็น กรุณาพิมพ์จำนวนเงินใหม่ เช่น "
        "/{command} <code>{example}</code>"
    ),
    "currency_not_taken": (
        "Omise ไม่รับสกุลเงิน {name} สร้างลิงก์ได้เฉพาะสกุลเงิน {codes} ตัวอย่าง: "
        "/{command} <code>{example}</code>"
    ),
    "currency_ambiguous": (
        "“{word}” อาจหมายถึงสกุลเงินได้หลายสกุล ({codes}) "
        "กรุณาใส่รหัสสกุลเงินต่อจากจำนวนเงิน เช่น /{command} <code>{example}</code>"
    ),
    "currency_subunit": (
        "“{word}” เป็นหน่วยย่อย (1 ใน 100) ของสกุลเงิน กรุณาเขียนจำนวนเงินเป็นหน่วยหลัก "
        "และใช้ทศนิยมได้ถ้าจำเป็น เช่น /{command} <code>{example}</code>"
    ),
    "amount_multiplier": (
        "“{text}” อาจหมายถึง {grouped} กรุณาเขียนจำนวนเงินเป็นตัวเลขทั้งหมด เช่น "
        "/{command} <code>{plain} {code} {title}</code> ถ้า “{word}” "
        "เป็นส่วนหนึ่งของชื่อรายการ กรุณาใส่สกุลเงินไว้ก่อนคำนั้น เช่น /{command} "
        "<code>{number} {code} {word} {title}</code>"
    ),
    "amount_multiplier_currency": (
        "“{text}” อาจหมายถึง {grouped} กรุณาเขียนจำนวนเงินเป็นตัวเลขทั้งหมด เช่น "
        "/{command} <code>{plain} {code} {title}</code>"
    ),
    "currency_unclear": (
        "บอทอ่านไม่ได้แน่ชัดว่า “{text}” ที่อยู่ต่อจากจำนวนเงินหมายถึงสกุลเงินใด "
        "กรุณาใส่รหัสสกุลเงินต่อจากจำนวนเงิน เช่น /{command} <code>{example}</code>"
    ),
    "amount_ambiguous_separators": (
        "“{text}” อ่านได้หลายแบบ กรุณาใช้จุดสำหรับทศนิยม และจุลภาคคั่นหลักพัน เช่น 1,234.56"
    ),
    "amount_too_precise": (
        "“{text}” มีทศนิยมมากเกินไป: จำนวนเงินสกุล {currency} มีทศนิยมได้ไม่เกิน {decimals} ตำแหน่ง"
    ),
    "amount_dot_thousands": (
        "“{text}” มีตัวเลขหลังจุด {places} หลัก แต่จำนวนเงินสกุล {currency} มีทศนิยมได้ไม่เกิน "
        "{decimals} ตำแหน่ง ถ้าหมายถึง {grouped} กรุณาเขียน {plain} หรือ {grouped}"
    ),
    "amount_dot_thousands_whole": (
        "“{text}” มีตัวเลขหลังจุด แต่จำนวนเงินสกุล {currency} ไม่มีทศนิยม "
        "ถ้าหมายถึง {grouped} กรุณาเขียน {plain} หรือ {grouped}"
    ),
    "amount_not_positive": "จำนวนเงินต้องมากกว่าศูนย์",
    "amount_too_large": "จำนวนเงินมากเกินไป (สูงสุด {limit})",
    "currency_conflict": "จำนวนเงินระบุ {symbol} แต่สกุลเงินระบุ {code} กรุณาเลือกอย่างใดอย่างหนึ่ง",
    "title_missing": "กรุณาใส่ชื่อรายการต่อจากจำนวนเงิน เช่น /{command} <code>{example}</code>",
    "title_too_long": "ชื่อรายการยาวเกินไป (ไม่เกิน {limit} ตัวอักษร)",
    "description_too_long": "รายละเอียดยาวเกินไป (ไม่เกิน {limit} ตัวอักษร)",
    "link_id_invalid": (
        "นี่ไม่ใช่ id ของลิงก์ id ของลิงก์มีรูปแบบเช่น <code>link_test_5g022xwp823yimkbzdl</code>"
    ),
    # A link
    "link": (
        "<b>{title}</b>\n"
        "{amount} · {kind}\n"
        "{status}"
        '<a href="{payment_uri}">{payment_uri}</a>\n'
        "<code>{link_id}</code>"
    ),
    "kind_once": "ใช้ครั้งเดียว",
    "kind_multiple": "ใช้ได้หลายครั้ง",
    "status_line_cancelled": "🚫 ยกเลิกแล้ว\n",
    "status_line_paid": "✅ ชำระแล้ว {amount} · {time}\n",
    "status_line_paid_multiple": "✅ ชำระแล้ว {count} ครั้ง · รวม {amount}\n",
    "button_pay": "ชำระ {amount}",
    "button_cancel": "ยกเลิกลิงก์",
    "button_qr": "QR",
    "button_copy": "คัดลอกลิงก์",
    "button_prev": "‹ ใหม่กว่า",
    "button_next": "เก่ากว่า ›",
    # /cancel
    "cancelled": "🚫 ยกเลิกลิงก์ <code>{link_id}</code> แล้ว ลิงก์นี้ไม่สามารถชำระเงินได้อีก",
    "cancelled_toast": "ยกเลิกลิงก์แล้ว",
    "already_cancelled": "ลิงก์ <code>{link_id}</code> ถูกยกเลิกไปก่อนแล้ว",
    "already_paid": "ลิงก์ <code>{link_id}</code> ชำระเงินแล้ว จึงยกเลิกไม่ได้",
    "link_not_in_chat": "ไม่พบลิงก์ <code>{link_id}</code> ที่สร้างในแชทนี้",
    "reply_not_a_link": "ข้อความนั้นไม่ใช่ลิงก์ที่บอทสร้าง กรุณาตอบกลับข้อความลิงก์",
    # /qr
    "qr_caption": "<b>{title}</b> · {amount}\nสแกนเพื่อชำระเงิน",
    "qr_cancelled": "ลิงก์ <code>{link_id}</code> ถูกยกเลิกแล้ว จึงไม่มี QR code เพราะชำระเงินไม่ได้อีก",
    "qr_not_sent": "⚠️ ส่ง QR code ในแชทนี้ไม่ได้ แชทนี้อาจไม่อนุญาตให้บอทส่งรูปภาพ ลองใช้ /qr ในแชทส่วนตัวกับบอทแทน",
    "qr_paid": "ลิงก์ <code>{link_id}</code> ชำระเงินแล้ว จึงไม่มี QR code เพราะชำระซ้ำไม่ได้",
    # /status
    "details": (
        "<b>{title}</b>\n"
        "{description}"
        "{amount} · {kind} · {status}\n"
        "สร้างเมื่อ {created}\n"
        "การชำระเงิน: {count} ครั้ง · ชำระแล้ว {paid_total}\n"
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
    "status_active": "ใช้งานได้",
    "status_paid": "ชำระแล้ว",
    "status_cancelled": "ยกเลิกแล้ว",
    # /links
    "links_header_chat": "<b>ลิงก์จากแชทนี้</b>",
    "links_header_business": "<b>ลิงก์จากแชทของคุณกับ {customer}</b>",
    "links_header_range": " ({first}–{last} จาก {total})",
    "links_customer_named": "{name}",
    "links_customer_id": "ลูกค้า <code>{user_id}</code>",
    "links_header_account": "<b>ลิงก์ในบัญชี Omise</b>",
    "links_item": "{number}. <b>{title}</b> · {amount} · {status}{paid}\n    <code>{link_id}</code>",
    "links_item_paid": " · ชำระแล้ว {count} ครั้ง",
    "links_item_paid_total": " · ชำระแล้ว {count} ครั้ง รวม {total}",
    "links_item_paid_at": " {time}",
    "links_empty_chat": "ยังไม่มีลิงก์ที่สร้างในแชทนี้ ลองพิมพ์ /link <code>74.40 Hot Latte</code>",
    "links_empty_business": "ยังไม่มีลิงก์ที่สร้างในแชทของคุณกับ {customer} ลองส่ง /link <code>74.40 Hot Latte</code> ในแชทนั้น",
    "links_empty_account": "บัญชี Omise ยังไม่มีลิงก์ ลองพิมพ์ /link <code>74.40 Hot Latte</code>",
    "links_page_gone": "หน้านี้ไม่มีรายการแล้ว",
    # Paid notifications
    "paid_once": "✅ ได้รับชำระ <b>{title}</b> แล้ว: {amount} เมื่อ {time}",
    "paid_multiple": (
        "✅ ได้รับชำระ <b>{title}</b> แล้ว: {amount} เมื่อ {time} "
        "เป็นการชำระครั้งที่ {count} รวมทั้งหมด {total}"
    ),
    "payment_failed": "⚠️ <b>{title}</b>: การชำระเงิน {amount} ไม่สำเร็จ{payable}",
    "payment_expired": "⚠️ <b>{title}</b>: การชำระเงิน {amount} หมดเวลาก่อนทำรายการเสร็จ{payable}",
    "still_payable": " ลิงก์นี้ยังชำระเงินได้",
    # When the chat a link belongs to cannot be written to (the bot was removed or blocked)
    "chat_closed_link": (
        "⚠️ ส่งลิงก์นี้ในแชทที่คุณขอไว้ไม่ได้ เพราะบอทถูกนำออกหรือถูกบล็อกในแชทนั้น "
        "ลิงก์อยู่ด้านล่างนี้ กรุณาส่งต่อเอง:\n\n{body}"
    ),
    "chat_closed_notice": (
        "⚠️ บอทส่งข้อความในแชทที่สร้างลิงก์นี้ไม่ได้แล้ว (ถูกนำออกหรือถูกบล็อก) จึงแจ้งคุณที่นี่แทน:\n\n{body}"
    ),
    # /report and /export
    "period_invalid": (
        "“{text}” ไม่ใช่ช่วงเวลาที่ออกรายงานได้\n"
        "วิธีใช้: /{command} [ช่วงเวลา] เช่น /{command} <code>today</code>, "
        "<code>yesterday</code>, <code>week</code>, <code>month</code>, "
        "<code>2026-11-27</code> หรือ <code>2026-11-01..2026-11-27</code>"
    ),
    "report_title_chat": "📊 <b>ยอดขายในแชทนี้</b> · {period}",
    "report_title_all": "📊 <b>ยอดขายทุกแชท</b> · {period}",
    "report_title_daily_chat": "🗓 <b>สรุปวันนี้ในแชทนี้</b> · {period}",
    "report_title_daily_all": "🗓 <b>สรุปวันนี้ทุกแชท</b> · {period}",
    "report_title_named": "📊 <b>ยอดขายใน {chat}</b> · {period}",
    "report_title_daily_named": "🗓 <b>สรุปวันนี้ใน {chat}</b> · {period}",
    "report_period_day": "{day}",
    "report_period_range": "{first} – {last}",
    "report_currency": (
        "<b>{currency}</b> · ชำระแล้ว {payments} รายการ\n"
        "ยอดขายรวม: {gross}\n"
        "ค่าธรรมเนียม: {fee}\n"
        "VAT ของค่าธรรมเนียม: {fee_vat}\n"
        "คืนเงิน: {refunded}\n"
        "ยอดสุทธิ: <b>{net}</b>"
    ),
    "report_fees_unknown": "\n<i>ไม่มีข้อมูลค่าธรรมเนียมของ {count} รายการ จึงนับยอดสุทธิเท่ากับยอดที่ชำระ</i>",
    "report_no_payments": "ไม่มีการชำระเงิน",
    "report_links": "ลิงก์: สร้าง {created} · ชำระแล้ว {paid} · เปิดอยู่ {open} · ยกเลิก {cancelled}",
    "report_best_sellers": "<b>สินค้าขายดี</b>",
    "report_best_seller": "{number}. {title} · {count} ครั้ง",
    "report_other_payment": "มีการชำระเงินอีก 1 รายการในบัญชี Omise ที่ไม่ได้มาจากลิงก์ของบอทนี้",
    "report_other_payments": "มีการชำระเงินอีก {count} รายการในบัญชี Omise ที่ไม่ได้มาจากลิงก์ของบอทนี้",
    "report_empty": "ยังไม่มีรายการ: ไม่มีการชำระเงินและไม่มีลิงก์ใหม่",
    "report_daily_on": (
        "🗓 คุณจะได้รับสรุปยอดของทุกแชทที่นี่ทุกวันเวลา {time} น. หยุดได้ด้วย /report <code>daily off</code>"
    ),
    "report_daily_on_unset": (
        "🗓 รับทราบแล้ว ขณะนี้บอทยังปิดการสรุปยอดรายวันอยู่ "
        "(ยังไม่ได้ตั้งค่า LINKBOT_DAILY_REPORT) จะเริ่มส่งเมื่อเจ้าของบอทตั้งเวลาแล้ว"
    ),
    "report_daily_off": "คุณจะไม่ได้รับสรุปยอดรายวันอีก",
    "report_daily_private": (
        "กรุณาขอรับสรุปยอดรายวันในแชทส่วนตัวกับบอท: /report <code>daily on</code> "
        "ส่วนสรุปรายวันของแต่ละกลุ่มที่มีการชำระเงิน "
        "บอทจะส่งให้ผู้ใช้ที่ร้านค้าอนุญาตทางแชทส่วนตัว เว้นแต่กลุ่มที่เปิด /report "
        "<code>here on</code> ไว้ บอทจะโพสต์สรุปในกลุ่มนั้น"
    ),
    "report_daily_usage": "วิธีใช้: /report <code>daily on</code> หรือ /report <code>daily off</code>",
    "report_here_on": (
        "📊 ต่อจากนี้ บอทจะตอบ /report และ /export ของกลุ่มนี้ในกลุ่มนี้ "
        "และจะส่งสรุปยอดรายวันของกลุ่มมาที่นี่ด้วย ทุกคนในกลุ่มจะเห็นตัวเลขเหล่านี้ "
        "หากต้องการหยุด กรุณาส่ง /report <code>here off</code>"
    ),
    "report_here_off": (
        "🔒 ต่อจากนี้ บอทจะส่งรายงานของกลุ่มนี้ทางแชทส่วนตัวให้ผู้ใช้ที่ร้านค้าอนุญาตซึ่งเป็นผู้ขอรายงาน "
        "และจะส่งสรุปยอดรายวันของกลุ่มให้ผู้ใช้ที่ร้านค้าอนุญาตทุกคนทางแชทส่วนตัว "
        "กลุ่มนี้จะไม่เห็นตัวเลขยอดขาย"
    ),
    "report_here_usage": (
        "วิธีใช้ (ในกลุ่มที่มีแต่ทีมงาน): /report <code>here on</code> "
        "เพื่อให้รายงานแสดงในกลุ่มนี้ หรือ /report <code>here off</code> เพื่อยกเลิก"
    ),
    "report_here_group": (
        "กรุณาส่ง /report <code>here on</code> ในกลุ่มที่มีแต่ทีมงาน ซึ่งต้องการให้รายงานของกลุ่มแสดงในกลุ่มนั้น"
    ),
    "sent_privately": "📬 บอทส่งให้คุณทางแชทส่วนตัวแล้ว",
    "sent_privately_unconfirmed": (
        "📬 บอทส่งให้คุณทางแชทส่วนตัวแล้ว แต่ Telegram ไม่ได้ยืนยันการส่ง หากไม่เห็นข้อความ กรุณาส่งคำสั่งอีกครั้งที่นี่"
    ),
    "private_chat_closed": (
        "📬 บอทยังส่งข้อความถึงคุณทางแชทส่วนตัวไม่ได้ กรุณาเปิดแชทส่วนตัวกับ "
        '<a href="https://t.me/{bot}?start=reports">@{bot}</a> แล้วกดปุ่ม “เริ่ม” (Start) '
        "จากนั้นส่งคำสั่งอีกครั้งที่นี่"
    ),
    "private_send_failed": (
        "⚠️ ตอนนี้บอทส่งข้อความถึงคุณทางแชทส่วนตัวไม่ได้ จึงยังไม่ได้ส่งอะไรไป "
        "กรุณาส่งคำสั่งอีกครั้งที่นี่ในอีกสักครู่ หากยังไม่เคยเปิดแชทส่วนตัวกับ "
        '<a href="https://t.me/{bot}?start=reports">@{bot}</a> กรุณาเปิดแชทแล้วกดปุ่ม '
        "“เริ่ม” (Start) ก่อน"
    ),
    "export_failed": "⚠️ บอทส่งไฟล์ไม่ได้ เพราะ Telegram ไม่รับไฟล์ กรุณาลองใหม่ในอีกสักครู่",
    "export_empty": "ไม่มีรายการชำระเงินให้ส่งออกสำหรับ {period}",
    "export_not_sent": "⚠️ บอทส่งไฟล์ในแชทนี้ไม่ได้ แชทนี้อาจไม่อนุญาตให้บอทส่งไฟล์ ลองใช้ /export ในแชทส่วนตัวกับบอท",
    "export_caption": "การชำระเงิน {count} รายการ · {period}",
    "export_too_large": (
        "ไฟล์ส่งออกนี้มีขนาด {size} MB เกินกว่าที่ Telegram ให้บอทส่งได้ กรุณาเลือกช่วงเวลาที่สั้นลง"
    ),
    # The command menu
    "menu_link": "สร้างลิงก์ชำระเงินแบบใช้ครั้งเดียว: /link 74.40 thb Hot Latte",
    "menu_multilink": "สร้างลิงก์ชำระเงินที่ใช้ได้หลายครั้ง",
    "menu_links": "ดูลิงก์ล่าสุด",
    "menu_status": "ดูรายละเอียดและการชำระเงินของลิงก์",
    "menu_cancel": "ยกเลิกลิงก์",
    "menu_qr": "QR code ของลิงก์ สำหรับชำระเงินที่หน้าร้าน",
    "menu_report": "รายงานยอดขาย: /report today, week, month หรือวันที่",
    "menu_export": "รายการชำระเงินเป็นไฟล์สเปรดชีต (CSV)",
    "menu_start": "เริ่มต้น: บอทนี้ทำอะไรได้ และ Telegram id ของคุณ",
    "menu_help": "วิธีใช้บอท และ Telegram id ของคุณ",
    # Failures
    "create_unknown": (
        "⚠️ Omise ไม่ได้ยืนยันการสร้างลิงก์ และตรวจสอบไม่ได้ว่าสร้างแล้วหรือยัง "
        "ลิงก์อาจถูกสร้างแล้ว กรุณาดูที่ /links ก่อนลองใหม่"
    ),
    "create_not_created": "⚠️ Omise ไม่ตอบกลับ และยังไม่มีการสร้างลิงก์ ส่งคำสั่งอีกครั้งได้อย่างปลอดภัย",
    "omise_auth": "⚠️ Omise ปฏิเสธ API key เจ้าของบอทต้องตรวจสอบ OMISE_SECRET_KEY",
    "omise_auth_group": "⚠️ Omise ปฏิเสธคีย์ของบอทนี้ เจ้าของบอทต้องตรวจสอบคีย์ Omise",
    "omise_not_found": "ไม่มีลิงก์นี้ในบัญชี Omise นี้",
    "omise_invalid": "⚠️ Omise ปฏิเสธคำขอ ข้อความจาก Omise: “{message}”",
    "omise_amount_too_small": "⚠️ Omise ปฏิเสธยอด {amount}: การชำระเงินสกุล {currency} ต้องไม่น้อยกว่า {minimum}",
    "omise_amount_too_large": "⚠️ Omise ปฏิเสธยอด {amount}: การชำระเงินสกุล {currency} ต้องไม่เกิน {maximum}",
    "omise_currency_refused": "⚠️ Omise ปฏิเสธสกุลเงิน {currency}: บัญชี Omise นี้ไม่รับชำระเงินสกุลนี้",
    "omise_rate_limited": "⏳ ขณะนี้ Omise มีผู้ใช้งานมาก กรุณาลองใหม่ในอีกสักครู่",
    "omise_server": "⚠️ ขณะนี้ Omise ขัดข้อง กรุณาลองใหม่ภายหลัง",
    "omise_timeout": "⚠️ Omise ไม่ตอบกลับภายในเวลาที่กำหนด กรุณาลองใหม่ภายหลัง",
    "omise_unreachable": "⚠️ เชื่อมต่อ Omise ไม่ได้ กรุณาลองใหม่ภายหลัง",
    "omise_unexpected": "⚠️ Omise ตอบกลับในรูปแบบที่ไม่คาดคิด กรุณาลองใหม่ภายหลัง",
    "internal_error": "⚠️ เกิดข้อผิดพลาดในระบบของบอท เจ้าของบอทดูรายละเอียดได้ในบันทึกการทำงาน (log)",
    "button_stale": "ปุ่มนี้ใช้ไม่ได้แล้ว",
    "edit_ignored": "✏️ ฉันไม่ทำตามคำสั่งที่ถูกแก้ไข กรุณาส่งคำสั่งใหม่เป็นข้อความใหม่ เช่น /link <code>74.40 Hot Latte</code>",
    # Inline mode: @bot 74.40 thb Hot Latte in any chat
    "button_share": "แชร์",
    "inline_create_title": "สร้างลิงก์ชำระเงิน — {title} · {amount}",
    "inline_create_hint": "ลิงก์ใช้ครั้งเดียว จะสร้างเมื่อกดส่ง",
    "inline_creating": (
        "⏳ กำลังสร้างลิงก์ชำระเงิน…\n\n"
        "<i>หากข้อความนี้ค้างอยู่แบบนี้ แสดงว่าบอทนี้ปิด inline feedback อยู่ "
        "เจ้าของบอทต้องตั้งค่าเป็น 100% ใน @BotFather (/setinlinefeedback)</i>"
    ),
    "button_creating": "⏳ กำลังสร้าง…",
    "inline_wait_alert": (
        "กำลังสร้างลิงก์ หากข้อความนี้ไม่เปลี่ยน เจ้าของบอทต้องเปิด inline feedback "
        "ใน @BotFather (/setinlinefeedback)"
    ),
    "inline_failed": "⚠️ สร้างลิงก์ชำระเงินนี้ไม่สำเร็จ",
    "inline_problem_title": "⚠️ สร้างลิงก์ไม่ได้",
    "inline_usage": (
        "พิมพ์จำนวนเงินและชื่อรายการต่อจากชื่อบอท เช่น "
        "<code>@{bot} 74.40 thb Hot Latte</code> (เพิ่ม <code>| รายละเอียด</code> "
        "หากต้องการใส่รายละเอียด) แล้วแตะผลลัพธ์เพื่อส่งลิงก์"
    ),
    "inline_share_title": "แชร์ลิงก์ชำระเงิน — {title} · {amount}",
    "inline_share_status": "{status} · {link_id}",
    "inline_share_unknown": "ไม่มีลิงก์ <code>{link_id}</code> ที่สร้างผ่านบอทนี้",
    "inline_share_unknown_title": "⚠️ ไม่พบลิงก์นี้",
    "inline_share_refused_title": "⚠️ แชร์ลิงก์นี้ไม่ได้",
    "inline_share_cancelled": "ลิงก์ <code>{link_id}</code> ถูกยกเลิกแล้ว ไม่สามารถชำระเงินได้อีก จึงไม่มีอะไรให้แชร์",
    "inline_share_paid": "ลิงก์ <code>{link_id}</code> ได้รับการชำระเงินแล้ว ไม่สามารถชำระซ้ำได้ จึงไม่มีอะไรให้แชร์",
    "inline_share_unchecked": "⚠️ ตอนนี้ฉันตรวจสอบลิงก์นี้กับ Omise ไม่ได้ จึงยังไม่แสดงให้แชร์ กรุณาลองใหม่อีกครั้งในอีกสักครู่",
    "button_inline_access": "ไม่มีสิทธิ์: ดูวิธีขอสิทธิ์",
    "inline_access": (
        "คุณพยายามสร้างลิงก์ชำระเงินผ่านโหมด inline ซึ่งทำได้เฉพาะผู้ใช้ที่ร้านค้าอนุญาตเท่านั้น\n\n"
        "Telegram id ของคุณ: <code>{user_id}</code>\n"
        "{authorization}"
    ),
    # Telegram Business: the merchant's own chats with customers
    "business_notice": "💬 ในแชทของคุณกับลูกค้า:\n\n{body}",
    "business_window": (
        "⚠️ Telegram ไม่อนุญาตให้บอทโพสต์ลิงก์นี้ในแชทของคุณกับลูกค้า เพราะบอทตอบในแชทนั้นได้"
        "ภายใน 24 ชั่วโมงหลังข้อความล่าสุดของลูกค้าเท่านั้น นี่คือลิงก์ สำหรับส่งเอง:\n\n{body}"
    ),
    "business_disabled": (
        "⚠️ บอทโพสต์ลิงก์นี้ในแชทของคุณกับลูกค้าไม่ได้ เพราะการเชื่อมต่อ Telegram Business "
        "กับบอทถูกปิดหรือถูกลบไปแล้ว เปิดใหม่ได้ที่ การตั้งค่า Telegram → ธุรกิจ → แชทบอท (Settings → Business → Chatbots) "
        "นี่คือลิงก์ สำหรับส่งเอง:\n\n{body}"
    ),
    "business_no_reply": (
        "⚠️ บอทโพสต์ลิงก์นี้ในแชทของคุณกับลูกค้าไม่ได้ เพราะการเชื่อมต่อ Business ไม่ได้ให้สิทธิ์"
        "ตอบข้อความ เปิดสิทธิ์ “ตอบกลับข้อความ” (Reply to messages) ได้ที่ การตั้งค่า Telegram → ธุรกิจ → แชทบอท (Settings → Business → Chatbots) "
        "นี่คือลิงก์ สำหรับส่งเอง:\n\n{body}"
    ),
    "business_connected": (
        "✅ เชื่อมต่อกับบัญชี Telegram Business ของคุณแล้ว ในแชทกับลูกค้า พิมพ์ "
        "/link 74.40 Hot Latte แล้วบอทจะโพสต์ลิงก์ชำระเงินในแชทนั้นให้"
        "{delete}"
    ),
    "business_connected_no_delete": "\nหากต้องการให้ลิงก์แทนที่ข้อความคำสั่งของคุณ ให้อนุญาตบอทลบข้อความด้วย",
    "business_connected_no_reply": (
        "⚠️ เชื่อมต่อกับบัญชี Telegram Business ของคุณแล้ว แต่บอทยังไม่มีสิทธิ์ตอบข้อความ "
        "จึงโพสต์ลิงก์ในแชทของคุณไม่ได้ เปิดสิทธิ์ “ตอบกลับข้อความ” (Reply to messages) ได้ที่ "
        "การตั้งค่า Telegram → ธุรกิจ → แชทบอท (Settings → Business → Chatbots)"
    ),
    "business_disconnected": (
        "บัญชี Telegram Business ของคุณไม่ได้เชื่อมต่อกับบอทแล้ว คำสั่งในแชทกับลูกค้าจะไม่มีผลจนกว่าจะเชื่อมต่อใหม่"
    ),
    "business_not_authorized": (
        "⛔ คุณเชื่อมต่อบอทกับบัญชี Telegram Business แล้ว แต่คุณยังไม่มีสิทธิ์จัดการลิงก์ "
        "บอทจึงจะไม่ทำตามคำสั่งในแชทของคุณ กรุณาขอให้เจ้าของบอทเพิ่ม id ของคุณ "
        "(<code>{user_id}</code>) ใน LINKBOT_ALLOWED_USERS"
    ),
    "business_command_off": (
        "⚠️ บอทไม่ได้ทำตามคำสั่งของคุณในแชทกับลูกค้า เพราะการเชื่อมต่อ Telegram Business "
        "กับบอทถูกปิดหรือถูกลบไปแล้ว เปิดใหม่ได้ที่ การตั้งค่า Telegram → ธุรกิจ → แชทบอท (Settings → Business → Chatbots)"
    ),
    "business_command_no_reply": (
        "⚠️ บอทไม่ได้ทำตามคำสั่งของคุณในแชทกับลูกค้า เพราะการเชื่อมต่อ Business ไม่ได้ให้สิทธิ์"
        "ตอบข้อความ เปิดสิทธิ์ “ตอบกลับข้อความ” (Reply to messages) ได้ที่ การตั้งค่า Telegram → ธุรกิจ → แชทบอท (Settings → Business → Chatbots)"
    ),
    "business_qr_refused": (
        "⚠️ Telegram ไม่อนุญาตให้บอทโพสต์ QR code ในแชทของคุณกับลูกค้า "
        "(บอทตอบในแชทนั้นได้ภายใน 24 ชั่วโมงหลังข้อความล่าสุดของลูกค้า "
        "และเมื่อมีสิทธิ์ตอบข้อความเท่านั้น)"
    ),
    # Dates and times
    "day_and_time": "{day} {time}",
    "time_of_day": "{time} น.",
}

MONTHS = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)
# Thai shops and banks date receipts in the Buddhist era.
BUDDHIST_ERA = 543


# How a list of items (currency codes) is joined.
LIST_SEPARATOR = ", "


def day_text(day: date) -> str:
    """``27 พ.ย. 2569``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year + BUDDHIST_ERA}"
