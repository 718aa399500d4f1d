"""QR codes of payment links, for paying in person. Pure: no Telegram, no I/O."""

from __future__ import annotations

import io

# Eight pixels a module: a payment URI's code comes out near 330 px, which a
# phone camera reads off a screen across a counter.
DEFAULT_SCALE = 8


def qr_png(uri: str, *, scale: int = DEFAULT_SCALE) -> bytes:
    """``uri`` as a PNG QR code, with the quiet zone scanners need around it."""
    # Imported here so the bot's start-up does not pay for a rarely used encoder.
    import segno

    # Medium error correction survives a scratched screen or a crumpled print
    # while keeping the code small enough to read from a distance.
    code = segno.make_qr(uri, error="m", boost_error=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
