# -*- test-case-name: tests.test_text -*-
"""
Making user text safe to show on someone else's terminal.

Control characters (C0, DEL, C1) could move the cursor, ring the bell, switch
character sets or repaint the screen: they are removed, and a tab becomes a
space.  Unicode line and paragraph separators become spaces, so a relayed line
stays one line.  Bidirectional embeddings, overrides and isolates are removed so
that no one can make their text read backwards into the next person's line
("Trojan Source", CVE-2021-42574).  Everything else, Polish letters and emoji
included, passes unchanged.
"""

from __future__ import annotations

_REMOVE = [*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_TABLE: dict[int, str | None] = {cp: None for cp in _REMOVE}
_TABLE.update({0x09: " ", 0x2028: " ", 0x2029: " "})


def clean(text: str) -> str:
    """Return C{text} with everything that could act on a terminal taken out."""
    # isprintable() is one C loop and true for nearly every real line, so the
    # translate (which builds a new string) runs only for lines that need it.
    if text.isprintable():
        return text
    return text.translate(_TABLE)
