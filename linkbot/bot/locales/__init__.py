"""The bot's text in each language it speaks: one module per language, one dict each."""
