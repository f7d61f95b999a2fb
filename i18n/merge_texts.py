"""Add or update texts in all six catalogs from a JSON file: {"en": {"id": "text"}, "pl": {...}}.

A plural entry (its id listed in i18n/plurals.py) is given as a list of its forms.

Usage: .venv/bin/python -m i18n.merge_texts texts.json   (then `make i18n-compile`)
"""

import fcntl
import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from i18n import CATALOG_DIR, LANGUAGES
from i18n.workflow import write_template


def merge(texts: dict[str, dict[str, str]]) -> None:
    unknown = set(texts) - set(LANGUAGES)
    if unknown:
        raise SystemExit(f"unknown languages: {', '.join(sorted(unknown))}")
    with open(CATALOG_DIR / ".merge.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several people may add texts at once
        for language, entries in texts.items():
            path = CATALOG_DIR / language / "LC_MESSAGES" / "messages.po"
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                with open(path, "rb") as handle:
                    catalog = read_po(handle, locale=language)
            else:
                catalog = Catalog(locale=language, project="peerline", charset="utf-8")
            for text_id, text in entries.items():
                # A list is a plural entry's forms, in the order of the catalog's Plural-Forms.
                key = (text_id, text_id) if isinstance(text, list) else text_id
                value = tuple(text) if isinstance(text, list) else text
                if text_id in catalog:
                    catalog[text_id].id, catalog[text_id].string = key, value
                else:
                    catalog.add(key, value)
            catalog.fuzzy = False
            with open(path, "wb") as handle:
                write_po(handle, catalog, width=100, sort_output=True)
        write_template()  # the committed template follows the code's ids


if __name__ == "__main__":
    merge(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
