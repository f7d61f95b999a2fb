"""`make i18n`: extract every text id, update the six catalogs, check them; never lose a text.

    python -m i18n.workflow            extract + update + check (what `make i18n` runs)
    python -m i18n.workflow check      only check: complete, no fuzzy, same placeholders
    python -m i18n.workflow add xx     start a catalog for a new language (then translate it)

A new language is that command, then its `.po` translated (check with `make i18n`); it joins
the language menu by itself. The help directory wants its descriptions too.

An entry a catalog has but the code no longer names is reported and kept, not dropped: it is
far more often an id built at run time that lost its `N_()` than a text nobody needs. Pass
`--drop` to remove such entries on purpose. Files are rewritten only when an entry changed.
"""

import string
import sys
from collections.abc import Iterable
from copy import deepcopy
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from i18n import CATALOG_DIR, LANGUAGES

ROOT = CATALOG_DIR.parent
CODE_DIRS = ("bot", "flows", "handlers", "i18n", "models")
TEMPLATE = CATALOG_DIR / "messages.pot"
METHOD = [("**.py", "i18n.extract:extract_text_ids")]
WIDTH = 100


def extract(root: Path = ROOT) -> Catalog:
    """The template: every text id the code names, plural where declared with NP_()."""
    template = Catalog(project="peerline", charset="utf-8", fuzzy=False)
    for directory in CODE_DIRS:
        found = extract_from_dir(root / directory, METHOD, keywords={"ngettext": (1, 2)})
        for _, _, message, _, _ in found:
            template.add(message)
    for code in LANGUAGES:  # each language's own name: its button, built as f"language.{code}"
        template.add(f"language.{code}")
    return template


def write_template(root: Path = ROOT) -> Catalog:
    """Extract, and rewrite messages.pot only when an entry changed (its date stays put)."""
    template, path = extract(root), root / "i18n" / "messages.pot"
    if not path.exists() or entries(_read(path)) != entries(template):
        _write(path, template)
    return template


def entries(catalog: Catalog) -> list[tuple]:
    """What matters in a catalog, headers and dates left aside."""
    return sorted(
        (str(m.id), str(m.string or ""), m.fuzzy, tuple(m.user_comments)) for m in catalog if m.id
    )


def _read(path: Path, locale: str | None = None) -> Catalog:
    with open(path, "rb") as handle:
        return read_po(handle, locale=locale)


def _write(path: Path, catalog: Catalog, **options) -> None:
    with open(path, "wb") as handle:
        write_po(handle, catalog, width=WIDTH, sort_output=True, **options)


def po_path(language: str, root: Path = ROOT) -> Path:
    return root / "i18n" / language / "LC_MESSAGES" / "messages.po"


def update(template: Catalog, root: Path = ROOT, drop: bool = False) -> dict[str, list[str]]:
    """Bring every catalog to the template; returns, per language, what needs attention."""
    report: dict[str, list[str]] = {}
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    for language in LANGUAGES:
        path = po_path(language, root)
        catalog = _read(path, language)
        unused = sorted(m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id)
        unused = [text_id for text_id in unused if text_id not in wanted]
        updated = deepcopy(catalog)
        updated.update(template, no_fuzzy_matching=True, update_creation_date=False)
        if unused and not drop:  # put back what the code no longer names, untouched
            for text_id in unused:
                updated[text_id] = catalog[text_id]
        updated.obsolete.clear()
        notes = [f"not named in the code: {text_id}" for text_id in unused]
        notes += [f"needs translating: {m.id}" for m in updated if m.id and not _done(m.string)]
        notes += [f"fuzzy: {m.id}" for m in updated if m.id and m.fuzzy]
        if notes:
            report[language] = notes
        if entries(updated) != entries(catalog):
            _write(path, updated, ignore_obsolete=True)
    return report


def _done(text: str | Iterable[str]) -> bool:
    texts = [text] if isinstance(text, str) else list(text)
    return bool(texts) and all(t.strip() for t in texts)


def _fields(text: str | Iterable[str]) -> list[set[str]]:
    texts = [text] if isinstance(text, str) else list(text)
    return [{name for _, name, _, _ in string.Formatter().parse(t) if name} for t in texts]


def check(root: Path = ROOT) -> list[str]:
    """Problems that would show a raw id or a broken sentence to someone."""
    english = {m.id: m for m in _read(po_path("en", root), "en") if m.id}
    problems = []
    for language in LANGUAGES:
        catalog = _read(po_path(language, root), language)
        for key, source in english.items():
            message = catalog.get(key if isinstance(key, str) else key[0])
            name = key if isinstance(key, str) else key[0]
            if message is None or not _done(message.string):
                problems.append(f"{language}: {name} is not translated")
            elif message.fuzzy:
                problems.append(f"{language}: {name} is fuzzy")
            elif not set().union(*_fields(message.string)) <= set().union(*_fields(source.string)):
                problems.append(f"{language}: {name} has placeholders English lacks")
    return problems


def add_language(code: str, root: Path = ROOT) -> Path:
    """A new catalog with every id, empty, and the language's plural rule as Babel knows it."""
    path = po_path(code, root)
    if path.exists():
        raise SystemExit(f"{path} exists already")
    catalog = Catalog(locale=Locale.parse(code), project="peerline", charset="utf-8", fuzzy=False)
    for message in _read(po_path("en", root), "en"):  # English has every entry, plural or not
        if message.id:
            catalog.add(message.id, ("",) * catalog.num_plurals if message.pluralizable else "")
    path.parent.mkdir(parents=True)
    _write(path, catalog)
    name = Locale.parse(code).get_display_name(code).capitalize()
    for language in (*LANGUAGES, code):  # her language's button, named in itself everywhere
        other = po_path(language, root)
        updated = _read(other, language)
        updated.add(f"language.{code}", name)
        _write(other, updated)
    return path


def main(argv: list[str]) -> int:
    drop = "--drop" in argv
    args = [a for a in argv if a != "--drop"]
    if args[:1] == ["add"] and len(args) == 2:
        path = add_language(args[1])
        print(f"{path}: translate every entry, then run `make i18n`")
        return 0
    if args[:1] not in ([], ["check"]):
        print(__doc__)
        return 2
    if not args:
        template = write_template()
        for language, notes in update(template, drop=drop).items():
            for note in notes:
                print(f"{language}: {note}")
    problems = check()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
