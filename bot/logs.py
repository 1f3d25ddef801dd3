"""Logging to standard output, one line per event, with secrets masked.

Log calls pass ids as fields (`digest.posted bounce_id=… ts=…`) and never
tokens; the filter below masks anything shaped like a Slack token or a
signing secret anyway, in case a library logs a request.
"""

from __future__ import annotations

import logging
import re
import sys

_SECRET = re.compile(r"(xox[abeprs]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|Bearer\s+\S+)")


class SecretMaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _SECRET.sub("[secret]", message)
        if masked != message:
            record.msg = masked
            record.args = ()
        return True


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(SecretMaskFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # slack_sdk logs whole request bodies at DEBUG; keep it at INFO even then.
    logging.getLogger("slack_sdk").setLevel(max(logging.INFO, logging.getLevelName(level)))
    # Bolt logs a rejected request's whole body at INFO; the app logs its own one-line rejection.
    logging.getLogger("slack_bolt").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # Alembic announces each plugin it loads; only its warnings matter here.
    logging.getLogger("alembic").setLevel(logging.WARNING)
