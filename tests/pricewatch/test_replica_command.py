"""`pricewatch replica` serves what `pricewatch init --demo` configures: that config crawls."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from pricewatch.cli import cli


def test_the_demo_config_crawls_the_shops_pricewatch_replica_serves(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICEWATCH")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from pricewatch.cli import main; main()",
            "replica",
            "--port",
            "0",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert server.stdout is not None
        ready = server.stdout.readline()  # waits for the shops to be up
        assert "Replica Kicks at http://127.0.0.1:" in ready, ready
        kicks, corner = (part.split(" at ")[1] for part in ready.split(";")[0].split(", "))
        runner = CliRunner()
        config = tmp_path / "demo.toml"
        assert runner.invoke(cli, ["init", "--demo", str(config)]).exit_code == 0
        # the file as written, with the ports this test could have (8801/8802 may be taken)
        text = config.read_text("utf-8")
        assert "http://127.0.0.1:8801" in text and "http://127.0.0.1:8802" in text
        config.write_text(
            text.replace("http://127.0.0.1:8801", kicks).replace("http://127.0.0.1:8802", corner)
        )
        db = tmp_path / "try.db"
        crawled = runner.invoke(cli, ["crawl", "--config", str(config), "--db", str(db)])
        assert crawled.exit_code == 0, crawled.output
        assert "Replica Kicks" in crawled.output and "Replica NB Corner" in crawled.output
    finally:
        server.send_signal(signal.SIGINT)
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0 and "Stopped." in out
