"""`python app.py import`: summaries, exit codes, re-imports and grouping, on a real database."""

import openpyxl
import pytest
from sqlalchemy import func, select

import app
from bot import reasons
from bot.importer import import_report
from storage.models import AuditEntry, Bounce, BounceDocument
from tests.helpers import HEADER, row, write_csv


@pytest.fixture
def cli_env(monkeypatch, database_url, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    return tmp_path


def count(database, model) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_clean_import_exits_zero(cli_env, capsys):
    path = write_csv(cli_env / "r.csv", [row("a@one.example"), row("b@two.example", reason="ISP Block")])
    assert app.main(["import", str(path)]) == 0
    assert "2 new rows" in capsys.readouterr().out


def test_rejected_rows_exit_two(cli_env, capsys):
    path = write_csv(cli_env / "r.csv", [row("a@one.example"), row("not-an-address"), row("c@x.example", day="31/31/2026")])
    assert app.main(["import", str(path)]) == 2
    out = capsys.readouterr().out
    assert "rejected line 3" in out
    assert "rejected line 4" in out
    assert "1 new row in 1 new bounce" in out


def test_unreadable_file_exits_one(cli_env, capsys):
    path = cli_env / "r.csv"
    path.write_bytes(b"\x00\x01\x02garbage" * 100)
    assert app.main(["import", str(path)]) == 1
    assert "Could not import" in capsys.readouterr().err


def test_missing_file_exits_one(cli_env):
    assert app.main(["import", str(cli_env / "nope.csv")]) == 1


def test_summary_counts_by_reason(cli_env, capsys):
    path = write_csv(cli_env / "r.csv", [row("a@one.example", "INV-1", "Hard Bounce"),
                                         row("b@two.example", "INV-2", "Hard Bounce"),
                                         row("c@three.example", "INV-3", "Soft Bounce")])
    app.main(["import", str(path)])
    out = capsys.readouterr().out
    assert "Hard bounce: 2" in out
    assert "Soft bounce: 1" in out


def test_reimport_adds_nothing(database, tmp_path):
    path = write_csv(tmp_path / "r.csv", [row("a@one.example", "INV-1"), row("b@two.example", "INV-2")])
    import_report(database, path)
    again = import_report(database, path)
    assert again.new == 0
    assert again.duplicates == 2
    assert count(database, BounceDocument) == 2


def test_overlapping_report_adds_only_new_rows(database, tmp_path):
    import_report(database, write_csv(tmp_path / "a.csv", [row("a@one.example", "INV-1"), row("b@two.example", "INV-2")]))
    summary = import_report(database, write_csv(tmp_path / "b.csv", [row("b@two.example", "INV-2"),
                                                                      row("c@three.example", "INV-3")]))
    assert (summary.new, summary.duplicates) == (1, 1)
    assert count(database, BounceDocument) == 3


def test_address_case_and_display_name_deduplicate(database, tmp_path):
    import_report(database, write_csv(tmp_path / "a.csv", [row("AP@Birch.Example", "INV-1")]))
    summary = import_report(database, write_csv(tmp_path / "b.csv", [row('"Birch AP" <ap@birch.example>', "INV-1")]))
    assert summary.duplicates == 1


def test_original_address_kept(database, tmp_path):
    import_report(database, write_csv(tmp_path / "a.csv", [row('"Birch AP" <AP@Birch.example>', "INV-1")]))
    with database.session() as session:
        document = session.scalars(select(BounceDocument)).one()
    assert document.original_address == '"Birch AP" <AP@Birch.example>'


def test_same_address_same_day_grouped(database, tmp_path):
    import_report(database, write_csv(tmp_path / "a.csv", [row("ap@birch.example", "INV-1"),
                                                            row("ap@birch.example", "INV-2"),
                                                            row("ap@birch.example", "INV-3", day="2026-12-02")]))
    assert count(database, Bounce) == 2


def test_late_row_after_posting_gets_new_bounce(database, tmp_path):
    import_report(database, write_csv(tmp_path / "a.csv", [row("ap@birch.example", "INV-1")]))
    with database.session() as session:
        bounce = session.scalars(select(Bounce)).one()
        bounce.slack_channel, bounce.slack_ts = "C0DIGEST", "1.000100"
    import_report(database, write_csv(tmp_path / "b.csv", [row("ap@birch.example", "INV-2")]))
    assert count(database, Bounce) == 2


def test_unknown_reason_kept_as_other(database, tmp_path):
    summary = import_report(database, write_csv(tmp_path / "a.csv", [row("a@one.example", reason="Quantum flux")]))
    assert summary.by_reason[reasons.OTHER] == 1
    assert summary.unknown_reason_texts["Quantum flux"] == 1


def test_rejected_rows_keep_stored_data(database, tmp_path):
    import_report(database, write_csv(tmp_path / "a.csv", [row("a@one.example", "INV-1")]))
    import_report(database, write_csv(tmp_path / "b.csv", [row("broken@", "INV-2")]))
    assert count(database, BounceDocument) == 1


def test_import_is_audited(database, tmp_path):
    import_report(database, write_csv(tmp_path / "a.csv", [row("a@one.example")]))
    with database.session() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert actions == ["imported"]


def test_xlsx_import(database, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(HEADER))
    sheet.append(["2026-12-03", "Birch Dental", "ap@birch.example", "INV-7", "ISP Block", "554 5.7.1", "blocked"])
    path = tmp_path / "report.xlsx"
    workbook.save(path)
    summary = import_report(database, path)
    assert summary.by_reason[reasons.ISP_BLOCK] == 1


def test_semicolon_cp1252_import(database, tmp_path):
    path = write_csv(tmp_path / "a.csv", [row("a@one.example", client="Société Générale €")], delimiter=";",
                     encoding="cp1252")
    import_report(database, path)
    with database.session() as session:
        assert session.scalars(select(BounceDocument.client)).one() == "Société Générale €"


def test_sample_report_covers_all_reasons(database):
    from bot.report import sample_report_path

    summary = import_report(database, sample_report_path())
    for key in (reasons.ISP_BLOCK, reasons.SOFT_BOUNCE, reasons.HARD_BOUNCE, reasons.MISSING_INVOICE):
        assert summary.by_reason[key] >= 1
    assert summary.rejected == 1
