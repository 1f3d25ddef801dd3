"""Import benchmark: time and peak memory of importing large reports.

Writes a synthetic report of N rows (unique addresses, all reasons), imports it
into a fresh SQLite file in a child process, and prints the child's wall time
and peak resident memory (ru_maxrss). Memory is bounded when the peak for
100,000 rows is close to the peak for 10,000 rows.

    .venv/bin/python bench/import_bench.py              # 10,000 and 100,000 rows
    .venv/bin/python bench/import_bench.py --rows 5000  # one size
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REASONS = ["Hard Bounce", "Soft Bounce", "ISP Block", "Ingested Invoice Does Not Exist", "Transient"]

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from bot.importer import import_report
from storage.db import Database
database = Database({url!r})
database.migrate()
started = time.perf_counter()
summary = import_report(database, {path!r})
elapsed = time.perf_counter() - started
print(json.dumps({{"new": summary.new, "rejected": summary.rejected, "seconds": elapsed,
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def write_report(path: Path, rows: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Date", "Client", "Email", "Invoice Number", "Reason", "Error Code", "Details"])
        for n in range(rows):
            writer.writerow([f"2026-12-{1 + n % 3:02d}", f"Client {n % 5000}", f"ap{n}@client{n % 20000}.example",
                             f"INV-{100000 + n}", REASONS[n % len(REASONS)], "550 5.1.1",
                             "550 5.1.1 recipient address rejected: user unknown in virtual mailbox table"])


def measure(rows: int, workdir: Path) -> dict:
    report = workdir / f"report-{rows}.csv"
    write_report(report, rows)
    database = workdir / f"bench-{rows}.db"
    code = CHILD.format(root=str(ROOT), url=f"sqlite:///{database}", path=str(report))
    started = time.perf_counter()
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["rows"] = rows
    result["process_seconds"] = time.perf_counter() - started
    result["file_mib"] = report.stat().st_size / 2**20
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="rows per report (repeatable)")
    args = parser.parse_args()
    sizes = args.rows or [10_000, 100_000]
    with tempfile.TemporaryDirectory() as directory:
        for rows in sizes:
            result = measure(rows, Path(directory))
            print(f"rows={result['rows']} imported={result['new']} file={result['file_mib']:.1f} MiB "
                  f"import={result['seconds']:.1f} s peak_rss={result['max_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
