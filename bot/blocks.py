"""Small Block Kit builders shared by every renderer.

Each returns a block dict already cut to Slack's limits (3,000 characters
for section and context text, 150 for a header) and validated by slack_sdk's
models.
"""

from __future__ import annotations

from typing import Any, Iterable

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, PlainTextObject, SectionBlock

from bot.mrkdwn import truncate

SECTION_TEXT_LIMIT = 3000
HEADER_LIMIT = 150
CONTEXT_ELEMENTS_LIMIT = 10


def section(text: str) -> dict[str, Any]:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_LIMIT))).to_dict()


def header(text: str) -> dict[str, Any]:
    return HeaderBlock(text=PlainTextObject(text=truncate(text, HEADER_LIMIT, " …"), emoji=True)).to_dict()


def context(*texts: str) -> dict[str, Any]:
    elements = [MarkdownTextObject(text=truncate(text, SECTION_TEXT_LIMIT)) for text in texts[:CONTEXT_ELEMENTS_LIMIT]]
    return ContextBlock(elements=elements).to_dict()


def distinct(values: Iterable[str | None]) -> list[str]:
    """Return the non-empty values in first-seen order, without repeats."""
    return list(dict.fromkeys(value for value in values if value))
