from datetime import timedelta

from sqlalchemy import select

from bot.importer import import_report
from storage.models import Bounce, Recipient, utcnow
from storage.snapshots import bounce_view
from tests.helpers import row, write_csv


def test_earlier_reactivation_not_shown(database, tmp_path):
    import_report(database, write_csv(tmp_path / "r.csv", [row("ap@birch.example")]))
    with database.session() as session:
        recipient = session.get(Recipient, "ap@birch.example")
        recipient.reactivated_at = utcnow() - timedelta(days=30)
        recipient.reactivation_requested_at = utcnow() - timedelta(days=31)
    with database.session() as session:
        view = bounce_view(session, session.scalars(select(Bounce)).one())
    assert view.reactivated_at is None
    assert view.reactivation_requested_at is None


def test_later_reactivation_shown(database, tmp_path):
    import_report(database, write_csv(tmp_path / "r.csv", [row("ap@birch.example")]))
    with database.session() as session:
        session.get(Recipient, "ap@birch.example").reactivated_at = utcnow() + timedelta(minutes=1)
    with database.session() as session:
        view = bounce_view(session, session.scalars(select(Bounce)).one())
    assert view.reactivated_at is not None
