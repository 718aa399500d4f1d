"""linkbot: a Telegram bot that issues Omise payment links."""

__version__ = "0.1.0"
