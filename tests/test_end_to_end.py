"""The commands as an operator runs them: `import`, `digest` and `run` as real processes.

The processes reach Slack only through SLACK_API_URL, which points at the
stand-in; the click arrives at `app.py run`'s own HTTP port, signed as Slack
signs it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import BOT_TOKEN, DIGEST_CHANNEL, SIGNING_SECRET, free_port, wait_for
from tests.helpers import row, write_csv
from tests.standins.signed_requests import SignedSlackClient

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(database_url, slack, tmp_path):
    values = {
        key: value for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")
    }
    values.update({
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "DIGEST_CHANNEL": DIGEST_CHANNEL,
        "PORT": str(free_port()),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "INFO",
    })
    return values


def run_app(env, *args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "app.py"), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_import_digest_click_and_quiet_second_digest(env, slack, tmp_path):
    report = write_csv(tmp_path / "report.csv", [row("ap@birch.example", "INV-1"),
                                                 row("ap@birch.example", "INV-2"),
                                                 row("it@maple.example", "INV-3", "ISP Block")])
    imported = run_app(env, "import", str(report), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "3 new rows in 2 new bounces" in imported.stdout

    digest = run_app(env, "digest", cwd=tmp_path)
    assert digest.returncode == 0, digest.stderr
    assert "posted 2 bounce messages" in digest.stdout
    bounce_posts = [call for call in slack.ok_calls_to("chat.postMessage") if "bounce_actions" in json.dumps(call.args)]
    assert len(bounce_posts) == 2

    server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "run"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{env['PORT']}"
        wait_for(lambda: _healthy(base), timeout=30)
        posted = bounce_posts[0]
        button = next(element for block in posted.args["blocks"] if block["type"] == "actions"
                      for element in block["elements"] if element["action_id"] == "bounce.mark_fixed")
        client = SignedSlackClient(base, SIGNING_SECRET)
        response = client.click("bounce.mark_fixed", button["value"], message_ts=posted.response["ts"])
        assert response.status_code == 200
        update = wait_for(lambda: slack.ok_calls_to("chat.update"), timeout=10)[0]
        assert update.args["ts"] == posted.response["ts"]
        assert "Resolved" in json.dumps(slack.messages[(DIGEST_CHANNEL, posted.response["ts"])]["blocks"])
        client.close()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert BOT_TOKEN not in output
    assert "click.received action=bounce.mark_fixed" in output

    again = run_app(env, "digest", cwd=tmp_path)
    assert "nothing posted" in again.stdout
    assert len([call for call in slack.calls_to("chat.postMessage")]) == 3


def _healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_demo_without_tokens_prints_all_reasons(tmp_path):
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    result = subprocess.run([sys.executable, str(ROOT / "app.py"), "demo"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for title in ("ISP block", "Soft bounce", "Hard bounce", "Ingested invoice does not exist"):
        assert title in result.stdout
    assert "Block Kit JSON" in result.stdout
    json_text_lines = [line for line in result.stdout.splitlines() if line.strip().startswith('"text":')]
    assert any("&lt;!channel&gt;" in line for line in json_text_lines)
    assert not any("<!channel>" in line for line in json_text_lines)
