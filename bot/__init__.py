"""The Telegram bot: people subscribe to colorways and sizes and ask for prices.

One module per job: `bot.parsing` reads what people type, `bot.render` is how replies look,
`bot.answers` answers each command and `bot.guided` runs the guided /subscribe (plain typed
functions, tested without Telegram); `bot.handlers` is the thin python-telegram-bot layer over
them, `bot.app` builds and runs the Application, and `bot.messages` and `bot.delivery` turn the
outbox into alerts.
"""
