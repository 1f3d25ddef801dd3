"""Helpers for writing report files and reading stored state in tests."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable, Sequence

HEADER = ("Date", "Client", "Email", "Invoice Number", "Reason", "Error Code", "Details")


def write_csv(path: Path, rows: Iterable[Sequence[str]], header: Sequence[str] = HEADER, delimiter: str = ",",
              encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
    return path


def row(address: str, document: str = "INV-1001", reason: str = "Hard Bounce", day: str = "2026-12-03",
        client: str = "Birch Dental LLC", code: str = "550 5.1.1", details: str = "user unknown") -> tuple[str, ...]:
    return (day, client, address, document, reason, code, details)
