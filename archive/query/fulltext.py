"""Full-text search over captures: one query syntax, two engines.

A search is parsed here, once, into a small tree and rendered for the engine in use: SQLite's
FTS5 or PostgreSQL's ``tsquery``, over the index that ``archive.db.search_index`` defines.

The syntax, the same on both:

- ``budget council``: both words (any order, any case);
- ``"flood warning"``: the words next to each other, in that order;
- ``libr*``: a word starting with ``libr``;
- ``budget OR levy``: either; ``OR`` binds tighter than the implicit AND;
- ``-school`` or ``NOT school``: leave out captures with that word;
- ``( )``: grouping, e.g. ``(budget OR levy) -school``.

Words are split into runs of letters and digits, as both engines do; punctuation between them
makes a phrase (``e-mail`` is the phrase ``"e mail"``). Anything the grammar cannot read raises
``InvalidSearch`` with a one-line message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.exceptions import InvalidInput

__all__ = [
    "And",
    "InvalidSearch",
    "Node",
    "Or",
    "Term",
    "parse_search",
    "to_fts5",
    "to_tsquery",
]


_WORD = re.compile(r"[^\W_]+")


class InvalidSearch(InvalidInput):
    """A search text the query syntax cannot read."""


@dataclass(frozen=True, slots=True)
class Term:
    """A word, or a phrase of words in order; ``prefix``: the last word is a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Or:
    options: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class And:
    """Every one of ``required`` and none of ``excluded`` (``required`` is never empty)."""

    required: tuple[Node, ...]
    excluded: tuple[Node, ...] = ()


Node = Term | Or | And


# -- parsing ------------------------------------------------------------------------------------

_Token = tuple[str, str]  # (kind, value): word, phrase, or, not, neg, open, close


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise InvalidSearch(f"unbalanced quote in search {text!r}")
            prefix = end + 1 < n and text[end + 1] == "*"
            out.append(("phrase*" if prefix else "phrase", text[i + 1 : end]))
            i = end + (2 if prefix else 1)
        elif ch in "()":
            out.append(("open" if ch == "(" else "close", ch))
            i += 1
        elif ch == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != "-":
            out.append(("neg", ch))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"':
                j += 1
            word = text[i:j]
            i = j
            if word == "OR":
                out.append(("or", word))
            elif word == "NOT":
                out.append(("neg", word))
            elif word == "AND":
                continue  # words are ANDed anyway
            else:
                out.append(("word", word))
    return out


def _term(raw: str, prefix: bool) -> Term | None:
    words = tuple(_WORD.findall(raw))
    if not words:
        return None
    return Term(words, prefix)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def fail(self, why: str) -> InvalidSearch:
        return InvalidSearch(f"invalid search {self.text!r}: {why}")

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def parse(self) -> Node:
        node = self.expr(top=True)
        if node is None:
            raise self.fail("no word to search for")
        return node

    def expr(self, *, top: bool) -> Node | None:
        required: list[Node] = []
        excluded: list[Node] = []
        while True:
            kind = self.peek()
            if kind is None:
                if not top:
                    raise self.fail("unbalanced parenthesis")
                break
            if kind == "close":
                if top:
                    raise self.fail("unbalanced parenthesis")
                self.pos += 1
                break
            negated, node = self.alternatives()
            if node is None:
                continue
            (excluded if negated else required).append(node)
        if not required:
            if excluded:
                raise self.fail("every word is excluded; say what to search for too")
            return None
        if len(required) == 1 and not excluded:
            return required[0]
        return And(tuple(required), tuple(excluded))

    def alternatives(self) -> tuple[bool, Node | None]:
        negated, first = self.unary()
        options = [first] if first is not None else []
        while self.peek() == "or":
            self.pos += 1
            if self.peek() in (None, "close", "or"):
                raise self.fail("OR needs a word on each side")
            neg, node = self.unary()
            if neg or negated:
                raise self.fail("an excluded word cannot be one side of OR")
            if node is not None:
                options.append(node)
        if len(options) > 1 and not first:
            raise self.fail("OR needs a word on each side")
        if not options:
            return negated, None
        return negated, options[0] if len(options) == 1 else Or(tuple(options))

    def unary(self) -> tuple[bool, Node | None]:
        kind = self.peek()
        if kind == "or":
            raise self.fail("OR needs a word on each side")
        if kind == "neg":
            self.pos += 1
            if self.peek() in (None, "close", "or", "neg"):
                raise self.fail("nothing after '-' or NOT")
            negated, node = self.unary()
            if negated:
                raise self.fail("a word excluded twice")
            return True, node
        assert kind is not None
        value = self.tokens[self.pos][1]
        self.pos += 1
        if kind == "open":
            return False, self.expr(top=False)
        if kind == "close":  # pragma: no cover - expr() consumes closing parentheses
            raise self.fail("unbalanced parenthesis")
        if kind in ("phrase", "phrase*"):
            return False, _term(value, kind == "phrase*")
        prefix = value.endswith("*")
        return False, _term(value.rstrip("*"), prefix)


def parse_search(text: str) -> Node:
    """Parse a search; raises ``InvalidSearch`` (one line) when it cannot be read."""
    if not text or not text.strip():
        raise InvalidSearch("empty search: give at least one word")
    return _Parser(text).parse()


# -- rendering ----------------------------------------------------------------------------------


def to_fts5(node: Node) -> str:
    """The search as an SQLite FTS5 MATCH expression."""
    if isinstance(node, Term):
        return f'"{" ".join(node.words)}"' + ("*" if node.prefix else "")
    if isinstance(node, Or):
        return "(" + " OR ".join(to_fts5(option) for option in node.options) + ")"
    required = " AND ".join(to_fts5(part) for part in node.required)
    if not node.excluded:
        return f"({required})"
    excluded = " OR ".join(to_fts5(part) for part in node.excluded)
    return f"(({required}) NOT ({excluded}))"


def _lexeme(word: str) -> str:
    return "'" + word.replace("'", "''") + "'"


def to_tsquery(node: Node) -> str:
    """The search as the text of a PostgreSQL ``tsquery`` (for ``to_tsquery('simple', ...)``)."""
    if isinstance(node, Term):
        parts = [_lexeme(word) for word in node.words]
        if node.prefix:
            parts[-1] += ":*"
        return "(" + " <-> ".join(parts) + ")" if len(parts) > 1 else parts[0]
    if isinstance(node, Or):
        return "(" + " | ".join(to_tsquery(option) for option in node.options) + ")"
    parts = [to_tsquery(part) for part in node.required]
    parts += [f"!{to_tsquery(part)}" for part in node.excluded]
    return "(" + " & ".join(parts) + ")"
