# -*- test-case-name: tests.test_i18n -*-
"""
The languages people can read chatroom in: English and Polish.

English is the catalog itself (the ids of the L{Message}s); every other
language is a gettext catalog in this directory: C{pl.po} (the source, edited
by people) compiled into C{pl.mo} (what the server reads, shipped as package
data).  L{catalog} returns one interned L{Catalog} per language, built on
C{gettext.GNUTranslations}, whose C{Plural-Forms} header picks the plural form
("1 osoba, 2 osoby, 5 osób").

How to add a message:
  1. Add it to C{chatroom/messages.py} (or the module of L{MODULES} it
     belongs to): C{NAME = Message("English, with {fields}")}; a number
     a person reads next to a noun makes it plural: C{count="field"}
     (and C{plural="..."} if the English has a plural form).
  2. Run C{python -m chatroom.i18n.compile}: it rewrites C{chatroom.pot},
     adds the new entry to every C{.po} with an empty translation, compiles
     the C{.mo} files and lists what is untranslated.
  3. Write the Polish in C{pl.po} (the same C{{fields}}; plural entries have
     C{msgstr[0]} for 1, C{msgstr[1]} for 2-4, 22-24..., C{msgstr[2]} for the
     rest), run the tool again, commit the C{.po}, C{.pot} and C{.mo}.
     C{tests/test_i18n.py} fails while a translation is missing, has other
     fields than the English, or the C{.mo} is older than its C{.po}.

How to change a translation: edit the C{.po}, run the tool, commit all three.

A rebase that stops on a conflict in a C{.mo}: resolve the C{.po} (and
C{.pot}) conflicts, if any, then run the tool: the C{.mo} is rebuilt from
the C{.po}, whichever side git left in place.

How to add a language (say Czech, C{cs}):
  1. C{cp pl.po cs.po}; set its C{Language:} and C{Plural-Forms:} header
     (the GNU gettext manual lists every language's), translate each entry
     (the first, C{msgid "."}, is how the language writes "2.5": C{","}
     for Czech, C{"."} to keep the point).
  2. Add C{"cs": "čeština"} (the language's own name) to L{LANGUAGES}.
  3. Give the browser page its labels: C{LABELS} in
     C{chatroom/web/static/app.js} (the page's own words, which it shows
     before any server line; what the server says comes from the catalogs).
  4. Run the tool and the tests.  Nothing else changes: C{--lang cs},
     C{/lang cs}, the client and the doors take their languages from here.
"""

from __future__ import annotations

import gettext
from pathlib import Path

from chatroom.catalog import ENGLISH, Catalog

HERE = Path(__file__).parent

LANGUAGES: dict[str, str] = {"en": "English", "pl": "polski"}
"""Every language there is: its code, and its own name for itself."""

DEFAULT = "en"

MODULES: tuple[str, ...] = ("chatroom.messages", "chatroom.clientmessages")
"""The modules holding L{Message}s that people read: the catalogs cover them all."""

_CATALOGS: dict[str, Catalog] = {ENGLISH.lang: ENGLISH}


def catalog(lang: str) -> Catalog:
    """
    The catalog for C{lang}, the same object every time (audiences and their
    caches are built once per language).

    @raise KeyError: C{lang} is not one of L{LANGUAGES}.
    """
    found = _CATALOGS.get(lang)
    if found is None:
        if lang not in LANGUAGES:
            raise KeyError(lang)
        with (HERE / f"{lang}.mo").open("rb") as mo:
            translations = gettext.GNUTranslations(mo)
        found = _CATALOGS[lang] = Catalog(lang, translations.gettext, translations.ngettext)
    return found


def language(code: str) -> str | None:
    """
    C{code} ("PL", "pl_PL.UTF-8", "pl-PL", or the language's own name,
    "polski") as one of L{LANGUAGES}, or L{None}.
    """
    code = code.strip().replace("-", "_").partition(".")[0].partition("@")[0].casefold()
    for candidate in (code, code.partition("_")[0]):
        if candidate in LANGUAGES:
            return candidate
    for lang, name in LANGUAGES.items():
        if code == name.casefold():
            return lang
    return None
