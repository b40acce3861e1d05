"""The Telegram bot: people subscribe to colorways and sizes and ask for prices.

`bot.logic` answers in plain typed functions (tested without Telegram), `bot.handlers` is the thin
python-telegram-bot layer over it, and `bot.app` builds and runs the Application.
"""
