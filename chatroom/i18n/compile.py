# -*- test-case-name: tests.test_i18n -*-
"""
C{python -m chatroom.i18n.compile}: the template, the merge and the compiler.

From the L{Message}s of L{chatroom.i18n.MODULES} it writes C{chatroom.pot}
(the template), merges it into every C{LANG.po} (new entries get an empty
translation, gone ones are dropped, translations are kept) and compiles each
C{.po} into the C{.mo} that C{gettext} reads.  It exits 1 and lists the
entries still untranslated, if any.

Python's standard library reads C{.mo} files but has no C{msgfmt} (only a
script in the CPython sources, not installed); the format is small (a header
and two tables of offsets, strings sorted), so compiling here keeps the
project free of a build step and of a dependency (Babel) used for nothing
else.  The output is byte-for-byte reproducible, so a test can tell when a
committed C{.mo} is stale.
"""

from __future__ import annotations

import ast
import importlib
import string
import struct
import sys
from dataclasses import dataclass, field

from chatroom.events import Message
from chatroom.i18n import HERE, LANGUAGES, MODULES

TEMPLATE = HERE / "chatroom.pot"


@dataclass
class Entry:
    """One entry of a C{.po} file; C{msgstr} has one string a plural form."""

    msgid: str
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    fuzzy: bool = False

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr) and not self.fuzzy


def messages() -> list[tuple[str, Message]]:
    """(constant name, message) of every message people read, in source order."""
    found: list[tuple[str, Message]] = []
    seen: set[str] = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if isinstance(value, Message) and value.id not in seen:
                seen.add(value.id)
                found.append((name, value))
    return found


def placeholders(template: str) -> list[tuple[str, str]]:
    """The C{str.format} fields of C{template} with their format specs, sorted."""
    found = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        found.append((name, f"{spec or ''}!{conversion or ''}"))
        if spec and "{" in spec:
            found.extend(placeholders(spec))
    return sorted(found)


# Reading and writing .po files.


def parse(text: str) -> tuple[Entry, list[Entry]]:
    """The header entry and the others, from a C{.po} file's text."""
    entries: list[Entry] = []
    current: Entry | None = None
    comments: list[str] = []
    fuzzy = False
    target: tuple[str, int | None] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#~"):
            continue  # obsolete
        if line.startswith("#,"):
            fuzzy = fuzzy or "fuzzy" in line
            continue
        if line.startswith("#"):
            if line.startswith(("# ", "#.")) or line == "#":
                comments.append(line)
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.startswith('"'):
            if current is None or target is None:
                raise ValueError(f"line {number}: a string outside an entry")
            _append(current, target, _unquote(line, number))
            continue
        value = _unquote(rest.strip(), number)
        if keyword == "msgid":
            current = Entry(value, comments=comments, fuzzy=fuzzy)
            entries.append(current)
            comments, fuzzy = [], False
            target = ("msgid", None)
        elif current is None:
            raise ValueError(f"line {number}: {keyword} before msgid")
        elif keyword == "msgid_plural":
            current.msgid_plural = value
            target = ("msgid_plural", None)
        elif keyword == "msgstr":
            current.msgstr = [value]
            target = ("msgstr", 0)
        elif keyword.startswith("msgstr[") and keyword.endswith("]"):
            index = int(keyword[7:-1])
            if index != len(current.msgstr):
                raise ValueError(f"line {number}: {keyword} out of order")
            current.msgstr.append(value)
            target = ("msgstr", index)
        else:
            raise ValueError(f"line {number}: unknown keyword {keyword}")
    if not entries or entries[0].msgid != "":
        raise ValueError('no header entry (msgid "")')
    return entries[0], entries[1:]


def _unquote(literal: str, number: int) -> str:
    if not (len(literal) >= 2 and literal[0] == literal[-1] == '"'):
        raise ValueError(f"line {number}: expected a quoted string")
    return ast.literal_eval(literal)


def _append(entry: Entry, target: tuple[str, int | None], value: str) -> None:
    name, index = target
    if name == "msgstr":
        entry.msgstr[index] += value
    else:
        setattr(entry, name, getattr(entry, name) + value)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _write_string(keyword: str, text: str) -> list[str]:
    if "\n" in text[:-1]:  # the header: one line a field, as gettext tools write it
        lines = [f'{keyword} ""']
        lines.extend(_quote(part) for part in text.splitlines(keepends=True))
        return lines
    return [f"{keyword} {_quote(text)}"]


def render(header: Entry, entries: list[Entry]) -> str:
    """A C{.po} (or C{.pot}) file's text: one canonical form, so merges are quiet."""
    out: list[str] = []
    for entry in [header, *entries]:
        out.extend(entry.comments)
        if entry.fuzzy:
            out.append("#, fuzzy")
        out.extend(_write_string("msgid", entry.msgid))
        if entry.msgid_plural is not None:
            out.extend(_write_string("msgid_plural", entry.msgid_plural))
            for index, text in enumerate(entry.msgstr):
                out.extend(_write_string(f"msgstr[{index}]", text))
        else:
            out.extend(_write_string("msgstr", entry.msgstr[0] if entry.msgstr else ""))
        out.append("")
    return "\n".join(out)


# The template and the merge.

TEMPLATE_HEADER = (
    "Project-Id-Version: chatroom\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "Content-Transfer-Encoding: 8bit\n"
)


def template() -> tuple[Entry, list[Entry]]:
    """The C{.pot}: every message, untranslated, with its constant's name as a comment."""
    header = Entry(
        "",
        msgstr=[TEMPLATE_HEADER],
        comments=["# The messages of chatroom; made by python -m chatroom.i18n.compile."],
    )
    entries = []
    for name, message in messages():
        comments = [f"#. {name}"]
        if placeholders(message.id):
            comments.append("#, python-brace-format")
        plural = message.plural
        entries.append(
            Entry(message.id, plural, ["", ""] if plural is not None else [""], comments)
        )
    return header, entries


def nplurals(header: Entry) -> int:
    """How many plural forms a catalog's C{Plural-Forms} header declares (2 without one)."""
    for line in header.msgstr[0].splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "plural-forms":
            for part in value.split(";"):
                name, _, number = part.partition("=")
                if name.strip() == "nplurals":
                    return int(number)
    return 2


def merge(po_text: str, pot: list[Entry]) -> tuple[Entry, list[Entry]]:
    """A C{.po} brought up to the template: kept translations, new empty entries."""
    header, old = parse(po_text)
    known = {(entry.msgid, entry.msgid_plural): entry for entry in old}
    forms = nplurals(header)
    merged = []
    for entry in pot:
        previous = known.get((entry.msgid, entry.msgid_plural))
        translator = [c for c in previous.comments if c.startswith("# ")] if previous else []
        comments = [c for c in entry.comments if not c.startswith("#,")]
        if previous is not None:
            msgstr, fuzzy = previous.msgstr, previous.fuzzy
        else:
            msgstr, fuzzy = [""] * (forms if entry.msgid_plural is not None else 1), False
        merged.append(Entry(entry.msgid, entry.msgid_plural, msgstr, translator + comments, fuzzy))
    return header, merged


def check(header: Entry, entries: list[Entry]) -> list[str]:
    """
    What is wrong with a catalog, one sentence a problem: a message missing or
    untranslated, an entry for no message, a translation whose fields differ
    from the English, plural forms that don't match the C{Plural-Forms} header.
    """
    problems = []
    forms = nplurals(header)
    wanted = {message.id: message for _, message in messages()}
    seen = set()
    for entry in entries:
        message = wanted.get(entry.msgid)
        if message is None:
            problems.append(f"no such message: {entry.msgid!r}")
            continue
        seen.add(entry.msgid)
        if entry.msgid_plural != message.plural:
            problems.append(
                f"plural is {entry.msgid_plural!r}, not {message.plural!r}: {entry.msgid!r}"
            )
            continue
        if not entry.translated:
            problems.append(f"untranslated: {entry.msgid!r}")
            continue
        if message.plural is not None and len(entry.msgstr) != forms:
            problems.append(f"{len(entry.msgstr)} plural forms, not {forms}: {entry.msgid!r}")
        fields = placeholders(message.id)
        for text in entry.msgstr:
            if placeholders(text) != fields:
                problems.append(f"fields {placeholders(text)} instead of {fields}: {text!r}")
    problems.extend(f"missing: {message_id!r}" for message_id in wanted if message_id not in seen)
    return problems


# Compiling.


def compile_mo(header: Entry, entries: list[Entry]) -> bytes:
    """
    The C{.mo} for a catalog: GNU gettext's format, little-endian, no hash
    table (C{gettext.GNUTranslations} reads the tables, never the hash).
    Untranslated and fuzzy entries are left out, so English shows instead.
    """
    pairs = [(b"", header.msgstr[0].encode("utf-8"))]
    for entry in entries:
        if not entry.translated:
            continue
        key = entry.msgid
        if entry.msgid_plural is not None:
            key += "\0" + entry.msgid_plural
        pairs.append((key.encode("utf-8"), "\0".join(entry.msgstr).encode("utf-8")))
    pairs.sort()
    count = len(pairs)
    originals_at = 7 * 4
    translations_at = originals_at + count * 8
    data_at = translations_at + count * 8
    tables: list[int] = []
    blob = bytearray()
    for column in (0, 1):
        for pair in pairs:
            text = pair[column]
            tables += [len(text), data_at + len(blob)]
            blob += text + b"\0"
    head = struct.pack("<7I", 0x950412DE, 0, count, originals_at, translations_at, 0, data_at)
    return head + struct.pack(f"<{len(tables)}I", *tables) + bytes(blob)


def catalogs() -> list[str]:
    """The languages with a C{.po} here besides English."""
    return sorted(code for code in LANGUAGES if code != "en")


def main() -> int:
    header, pot = template()
    TEMPLATE.write_text(render(header, pot), encoding="utf-8")
    status = 0
    for lang in catalogs():
        po_path = HERE / f"{lang}.po"
        po_header, entries = merge(po_path.read_text(encoding="utf-8"), pot)
        po_path.write_text(render(po_header, entries), encoding="utf-8")
        (HERE / f"{lang}.mo").write_bytes(compile_mo(po_header, entries))
        for problem in check(po_header, entries):
            status = 1
            print(f"{po_path.name}: {problem}", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
