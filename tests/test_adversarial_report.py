"""Report files that break the import: classic Mac line endings, and NUL bytes after the first 64 KiB."""

import pytest
from sqlalchemy import func, select

import app
from bot.importer import import_report
from bot.report import ReportUnreadable
from storage.models import BounceDocument
from tests.helpers import row, write_csv


@pytest.fixture
def cli_env(monkeypatch, database_url, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    return tmp_path


def stored_rows(database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(BounceDocument))


def test_cr_line_endings_import(cli_env, database):
    # Excel for Mac's "CSV (Macintosh)" ends lines with CR alone.
    mac_csv = cli_env / "mac.csv"
    mac_csv.write_bytes(b"Date,Email\r2026-12-03,ap@birch.example\r")
    other = write_csv(cli_env / "other.csv", [row("billing@oak.example")])

    exit_code = app.main(["import", str(mac_csv), str(other)])

    assert exit_code in (0, 1, 2)
    assert stored_rows(database) >= 1, "the second file was not imported"


def test_late_nul_byte_import(database, tmp_path):
    # The binary-data check only reads the first 64 KiB, so a NUL further on reaches the database.
    filler = [row(f"ap{index}@birch.example", details="x" * 100) for index in range(700)]
    nul_row = row("nul@birch.example", client="Birch\x00Dental")
    path = write_csv(tmp_path / "late-nul.csv", filler + [nul_row])

    try:
        import_report(database, path)
    except ReportUnreadable:
        pass

    with database.session() as session:
        clients = list(session.scalars(select(BounceDocument.client)))
    assert not any("\x00" in client for client in clients)
    assert stored_rows(database) >= 700
