"""Document numbers (invoices and statements) as the report and people type them."""

import re


def document_key(document: str) -> str:
    """Fold a document number for lookups: upper case, no whitespace."""
    return re.sub(r"\s+", "", document).upper()
