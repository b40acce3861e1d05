"""The bot token is never printed or logged (issue 13, point 8).

The token is in every Bot API URL, so it turns up in PTB's "The token `...` was rejected" text,
in httpx's "HTTP Request: POST .../bot<TOKEN>/getMe" line, and in any error that quotes a URL.
These tests start the real `pricewatch bot` (a child process) or the real PTB client against
the local Bot API server and look for the token in everything that was written.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import traceback
from pathlib import Path

import httpx
import pytest
from telegram.error import InvalidToken

from bot.app import run_bot
from bot.redact import protect, redact, scrub_exception, token_hint, token_tail
from tests.bot.botapi import BotApiServer
from tests.bot.shopdata import bot_config, build_catalog

REPO = Path(__file__).resolve().parents[2]
# Shaped like a real token (bot id, colon, 35 characters): its secret half must not show either
TOKEN = "7312456789:AAHk3vQx9LmZp2RtYw8NcB4dFg6JsKe1yz42"
SECRET = TOKEN.split(":")[1]

CONFIG_TOML = """
[[shops]]
name = "Kith"
platform = "shopify"
url = "https://kith.example"
currency = "USD"
"""


def run_cli(server: BotApiServer, tmp_path: Path, token: str) -> subprocess.CompletedProcess[str]:
    """`pricewatch bot` as the installed script runs it, INFO logging on, until it exits."""
    config = tmp_path / "pricewatch.toml"
    config.write_text(CONFIG_TOML, "utf-8")
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_BASE_URL": server.base_url,
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-c", "from pricewatch.cli import main; main()", "bot"]
    command += ["--config", str(config), "--db", str(build_catalog(tmp_path / "bot.db"))]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def assert_no_token(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text and SECRET not in text, text


def test_a_rejected_token_is_one_line_that_names_only_its_last_characters(
    tmp_path: Path,
) -> None:
    with BotApiServer() as server:  # it knows another token: ours is refused (401)
        done = run_cli(server, tmp_path, TOKEN)
        assert [c.status for c in server.calls if c.method == "getMe"] == [401]
    assert_no_token(done.stdout, done.stderr)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "Config error: the Bot API refused the bot token ending …yz42 (Unauthorized)"
    ]


def test_an_error_that_quotes_the_url_is_one_line_without_the_token(tmp_path: Path) -> None:
    with BotApiServer(token=TOKEN) as server:
        # a proxy in front of the Bot API that names the URL it could not reach
        server.fail_next("getMe", status=502, description=f"Bad Gateway: /bot{TOKEN}/getMe")
        done = run_cli(server, tmp_path, TOKEN)
        assert [c.status for c in server.calls if c.method == "getMe"] == [502]
    assert_no_token(done.stdout, done.stderr)
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line == (
        f"Error: cannot reach the Bot API at {server.base_url}: "
        "Bad Gateway: /bot<the token ending …yz42>/getMe"
    )


def test_run_bot_raises_no_token_for_any_caller_to_print(tmp_path: Path) -> None:
    """`pricewatch run` lets run_bot's error end the process: its traceback is printed whole."""
    with BotApiServer() as server:
        config = bot_config(tmp_path / "x.db", base_url=server.base_url, token=TOKEN)
        with pytest.raises(InvalidToken) as raised:
            asyncio.run(run_bot(config, deliver=False))
    printed = "".join(traceback.format_exception(raised.value))
    assert "rejected by the server" in printed
    assert_no_token(printed, repr(raised.value))


def test_log_records_never_carry_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Whoever turns httpx's logging back on, and whatever logs a traceback, the token is not
    in the log: every record of the process is redacted once the bot knows its token."""
    caplog.set_level(logging.DEBUG)
    protect(TOKEN)
    httpx_logger = logging.getLogger("httpx")
    assert httpx_logger.level == logging.WARNING  # quiet by default...
    httpx_logger.setLevel(logging.DEBUG)  # ...and someone debugging turned it on
    try:
        with BotApiServer(token=TOKEN) as server:
            answer = httpx.post(f"{server.base_url}{TOKEN}/getMe")
            assert answer.json()["ok"] is True
        try:
            raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
        except InvalidToken:
            logging.getLogger("telegram.ext.Updater").exception("polling failed")
    finally:
        httpx_logger.setLevel(logging.WARNING)
    [request] = [r for r in caplog.records if r.getMessage().startswith("HTTP Request: POST")]
    assert "/bot<the token ending …yz42>/getMe" in request.getMessage()
    [failure] = [r for r in caplog.records if r.getMessage() == "polling failed"]
    assert failure.exc_info is not None and "rejected by the server" in caplog.text
    assert_no_token(caplog.text, *(r.getMessage() for r in caplog.records))


def test_hints_and_redaction() -> None:
    assert token_hint(TOKEN) == "the token ending …yz42"
    assert token_tail("123:abcdef") == "…ef"  # a short token shows less
    text = f"POST /bot{TOKEN}/getMe and /bot7312456789%3A{SECRET}/getMe"
    assert redact(text, [TOKEN]) == (
        "POST /bot<the token ending …yz42>/getMe and "
        "/bot7312456789%3A<the token ending …yz42>/getMe"
    )
    assert redact("a TEST word", ["1:TEST"]) == "a TEST word"  # too short to hide alone
    protect(TOKEN)
    cause = httpx.ConnectError(f"cannot connect to /bot{TOKEN}/getMe")
    error = InvalidToken(f"The token `{TOKEN}` was rejected")
    error.__cause__ = cause
    scrub_exception(error)
    assert_no_token(str(error), str(cause), "".join(traceback.format_exception(error)))
