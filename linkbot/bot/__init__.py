"""The Telegram side: handlers, views, access control and the message catalog."""

from linkbot.bot.app import build_application, register_commands

__all__ = ["build_application", "register_commands"]
