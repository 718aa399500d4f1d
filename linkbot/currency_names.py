"""Words, symbols and codes merchants write for a currency, and words that multiply a number.

Looked up by :func:`key`: NFKC (full-width forms as ASCII) and upper case, so
"ＴＨＢ", "thb" and "Thb" are one key.
"""

from __future__ import annotations

import unicodedata


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The codes of ISO 4217 (list one, as amended up to 2025). A three-letter
# code after an amount that Omise does not take is refused by name rather than
# read as the first word of the title.
ISO_CODES = _codes(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV
    BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE
    CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD
    HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD
    KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN
    MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD
    RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST
    XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR
    ZMW ZWG ZWL
    """
)
# Codes that are also everyday words ("50 cup of tea", "100 top up", "80 all
# day"): after an amount they start the title, as they always have.
WORD_CODES = _codes("ALL ANG BAM BOB CHE COP CUP GEL MAD MOP PEN RON RUB SOS TOP TRY XXX")

# Words and symbols merchants in Thailand and Japan type for a currency, before
# or after the amount, spaced or glued (฿74.40, 100บาท, 500 円, 5 RM). Matched
# whole, ignoring case and full-width forms, so "baht" never matches "bahtxyz".
# "$" is USD and "¥" is JPY, as on Omise's own dashboards; the other dollars
# and yuan need their prefix. "pound" names several currencies, so "150 pound cake" is refused:
# "150 thb pound cake" is the cake.
NAMES: tuple[tuple[str, str], ...] = (
    ("THB", "฿ baht bht บาท บ. バーツ"),
    ("JPY", "¥ 円 yen เยน 日本円"),
    ("SGD", "S$ SG$ ดอลลาร์สิงคโปร์ シンガポールドル"),
    ("MYR", "RM ringgit ริงกิต リンギット"),
    ("USD", "$ US$ ดอลลาร์สหรัฐ 米ドル"),
    ("EUR", "€ euro euros ยูโร ユーロ"),
    ("GBP", "£ sterling 英ポンド"),
    ("GBP EGP LBP SYP SDG SSP FKP GIP SHP", "pound pounds ポンド ปอนด์"),
    ("AUD", "A$ AU$ ดอลลาร์ออสเตรเลีย 豪ドル"),
    ("CAD", "CA$ C$ ดอลลาร์แคนาดา カナダドル"),
    ("CHF", "スイスフラン"),
    ("CNY", "CN¥ RMB yuan หยวน 人民元 人民币"),
    ("HKD", "HK$ ดอลลาร์ฮ่องกง 香港ドル"),
    # Currencies Omise does not take, refused by their code.
    ("KRW", "₩ 원 won วอน ウォン"),
    ("INR", "₹"),
    ("PHP", "₱"),
    ("VND", "₫"),
    ("IDR", "Rp rupiah รูเปียห์ ルピア"),
    ("TWD", "NT$"),
    ("NZD", "NZ$"),
    ("BRL", "R$"),
    ("LAK", "₭"),
    ("KHR", "៛ riel เรียล"),
    ("MMK", "kyat จ๊าด"),
    ("ILS", "₪"),
    ("TRY", "₺"),
    ("RUB", "₽"),
    ("UAH", "₴"),
    ("NGN", "₦"),
    ("KZT", "₸"),
    ("BTC", "₿ BTC bitcoin"),
    ("ETH", "ETH"),
    ("USDT", "USDT"),
    # Names shared by several currencies: refused with the codes to choose from.
    ("USD SGD AUD CAD HKD NZD TWD", "dollar dollars ดอลลาร์ ドル"),
    ("DKK SEK NOK ISK", "kr kr."),
    ("CNY HKD TWD", "元"),
    ("CHF XAF XOF", "franc francs"),
    ("PHP MXN ARS CLP COP", "peso pesos"),
    ("INR PKR LKR NPR", "rupee rupees"),
)
# A hundredth of a currency: "50 cents" or "50 satang" is not 50 of the currency.
# The value is the currency the word belongs to, when only one has it ("sen" is
# both Japan's and Malaysia's).
SUBUNITS: dict[str, str | None] = {
    **dict.fromkeys(["CENT", "CENTS", "¢", "セント", "เซนต์", "SEN", "PENCE", "PENNY", "PENNIES"]),
    **dict.fromkeys(["SATANG", "สตางค์"], "THB"),
    "銭": "JPY",
}


def key(word: str) -> str:
    return unicodedata.normalize("NFKC", word).strip().upper()


NAMED: dict[str, tuple[str, ...]] = {
    **{code: (code,) for code in ISO_CODES - WORD_CODES},
    **{key(word): tuple(codes.split()) for codes, words in NAMES for word in words.split()},
}


# Currency names of more than one word, keyed by their words' keys joined by a
# space. "100 US dollars Tip" is $100, never ฿100 for "US dollars Tip".
PHRASES: dict[str, str] = {
    " ".join(key(word) for word in phrase.split()): code
    for code, phrases in (
        ("USD", "US dollar|US dollars|U.S. dollars|American dollars|ดอลลาร์ สหรัฐ"),
        ("SGD", "Singapore dollar|Singapore dollars|Singaporean dollars|ดอลลาร์ สิงคโปร์"),
        ("HKD", "Hong Kong dollar|Hong Kong dollars|HK dollars|ดอลลาร์ ฮ่องกง"),
        ("AUD", "Australian dollar|Australian dollars|ดอลลาร์ ออสเตรเลีย"),
        ("CAD", "Canadian dollar|Canadian dollars|ดอลลาร์ แคนาดา"),
        ("NZD", "New Zealand dollar|New Zealand dollars|NZ dollars"),
        ("TWD", "Taiwan dollar|Taiwan dollars|New Taiwan dollars"),
        ("JPY", "Japanese yen|เยน ญี่ปุ่น"),
        ("THB", "Thai baht|Thai bahts"),
        ("MYR", "Malaysian ringgit|Malaysia ringgit"),
        ("GBP", "British pound|British pounds|pound sterling|pounds sterling|UK pounds"),
        ("CHF", "Swiss franc|Swiss francs"),
        ("CNY", "Chinese yuan"),
        ("DKK", "Danish krone|Danish kroner"),
        ("KRW", "Korean won|South Korean won"),
        ("INR", "Indian rupee|Indian rupees"),
        ("PHP", "Philippine peso|Philippine pesos"),
    )
    for phrase in phrases.split("|")
}

# Words that multiply the number before them: "5 万円" is ¥50,000, "2 million
# baht" is ฿2,000,000. They are refused with the amount in digits, never read
# as the first word of the title. The value is the power of ten.
MULTIPLIERS: dict[str, int] = {
    key(word): power
    for power, words in (
        (2, "hundred ร้อย 百"),
        (3, "k thousand thousands พัน 千"),
        (4, "หมื่น 万 萬"),
        (5, "แสน lakh lakhs"),
        (6, "m mil mio mn million millions ล้าน"),
        (7, "crore crores"),
        (8, "億"),
        (9, "bn billion billions"),
        (12, "兆"),
    )
    for word in words.split()
}
