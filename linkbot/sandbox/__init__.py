"""`linkbot try`: the real bot against simulated Telegram and Omise, with a chat page."""
