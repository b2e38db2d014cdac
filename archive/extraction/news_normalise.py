"""Normalised article metadata: ISO dates with their time zone, author lists, ISO language codes.

Pure functions of strings; each returns None (or an empty list) for a value it cannot make sense
of rather than guessing.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = [
    "detect_language",
    "normalise_authors",
    "normalise_date",
    "normalise_language",
]

_MIN_YEAR, _MAX_YEAR = 1990, 2100
_DATE_PREFIX_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_COMPACT_OFFSET_RE = re.compile(r"([+-]\d{2})(\d{2})$")
_LANG_RE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]{1,8})*$")
# ISO 639-2 codes pages use instead of the two-letter ones, for the languages of the news.
_LANG_3TO2 = {
    "eng": "en", "ger": "de", "deu": "de", "fre": "fr", "fra": "fr", "spa": "es", "ita": "it",
    "por": "pt", "dut": "nl", "nld": "nl", "rus": "ru", "pol": "pl", "swe": "sv", "dan": "da",
    "nor": "no", "nob": "nb", "fin": "fi", "tur": "tr", "ara": "ar", "chi": "zh", "zho": "zh",
    "jpn": "ja", "kor": "ko", "ukr": "uk", "ces": "cs", "cze": "cs", "hun": "hu", "ell": "el",
    "gre": "el", "heb": "he", "hin": "hi", "ind": "id", "ron": "ro", "rum": "ro",
}  # fmt: skip

_ISO_639_1_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv "
    "cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr "
    "ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw "
    "ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv "
    "ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr "
    "ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi "
    "yo za zh zu"
)
_ISO_639_1 = frozenset(_ISO_639_1_CODES.split())
# Country codes that pages put where the language belongs ("kr" is also Kanuri, but a news page
# tagged "kr" is Korean).
_COUNTRY_AS_LANGUAGE = {
    "kr": "ko", "jp": "ja", "cn": "zh", "cz": "cs", "ua": "uk", "gr": "el", "dk": "da",
}  # fmt: skip

# "By Jane Doe" in the languages of the corpus; a byline word only at the very start.
_BYLINE_PREFIX_RE = re.compile(
    r"^(?:by|von|par|por|di|da|door|av|af|przez|autor(?:in)?|author|text|texto|written by)"
    r"[\s:]+",
    re.IGNORECASE,
)
_AUTHOR_SPLIT_RE = re.compile(
    r"\s*(?:[,;|/]|\s(?:and|und|&|y|e|en|og|och|i|et)\s)\s*", re.IGNORECASE
)
_NOT_A_NAME_RE = re.compile(r"^(?:https?:|www\.)|@\w+\.\w+|^@|^[\d\W]+$")
_INITIALS_RE = re.compile(r"\s*\(\w{1,5}\.?\)$")  # "Jane Doe (jd)": the desk's initials


def normalise_date(value: str | None) -> str | None:
    """An ISO 8601 date, or date and time with its UTC offset when the value gives one.

    ``2024-05-03T15:47:42.389+0200`` becomes ``2024-05-03T15:47:42+02:00``, ``Fri, 03 May 2024
    13:47:42 GMT`` becomes ``2024-05-03T13:47:42+00:00``; a value with no time (or midnight
    without an offset) becomes the plain date. None for what is not a plausible date.
    """
    if not value:
        return None
    text = value.strip()
    parsed: datetime | None = None
    try:
        iso = _COMPACT_OFFSET_RE.sub(r"\1:\2", text.replace("Z", "+00:00"))
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        match = _DATE_PREFIX_RE.match(text)
        if not match:
            return None
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
        return day.isoformat() if _MIN_YEAR <= day.year <= _MAX_YEAR else None
    if not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        return None
    if parsed.tzinfo is None and parsed.time() == datetime.min.time() and "T" not in text:
        return parsed.date().isoformat()
    return parsed.replace(microsecond=0).isoformat()


def normalise_authors(value: Any) -> list[str]:
    """A list of author names from a string or a list of strings.

    Splits "A, B and C", drops "By"-style prefixes, URLs, e-mail addresses and duplicates.
    """
    raw = value if isinstance(value, (list, tuple)) else [value]
    names: list[str] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, str) or item.strip().startswith(("http:", "https:", "www.")):
            continue
        for part in _AUTHOR_SPLIT_RE.split(item.strip()):
            name = _BYLINE_PREFIX_RE.sub("", " ".join(part.split()))
            name = _INITIALS_RE.sub("", name).strip(" .,:-\u2013\u2014")
            if (
                len(name) < 2
                or len(name) > 80
                or len(name.split()) > 6  # a description, not a name
                or _NOT_A_NAME_RE.search(name)
            ):
                continue
            if name.casefold() not in seen:
                seen.add(name.casefold())
                names.append(name)
    return names


def normalise_language(value: str | None) -> str | None:
    """The ISO 639-1 code (lower case) of a language tag such as ``de-DE``, ``en_US``, ``fra``."""
    if not value:
        return None
    match = _LANG_RE.match(value.strip())
    if not match:
        return None
    code = match[1].lower()
    if len(code) == 3:
        return _LANG_3TO2.get(code)
    code = _COUNTRY_AS_LANGUAGE.get(code, code)
    return code if code in _ISO_639_1 else None


def detect_language(text: str | None, min_chars: int = 40) -> str | None:
    """The ISO 639-1 code of the language of ``text`` (py3langid), None for too little text."""
    if not text or len(text.strip()) < min_chars:
        return None
    import py3langid  # loads its model on first use: only pages that do not declare pay for it

    code, _score = py3langid.classify(text[:5000])
    return str(code) if code else None
