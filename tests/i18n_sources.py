"""Finding user-facing text that is not marked for translation, in templates and scripts.

Used by tests/test_i18n.py, which fails on any finding. The rules, in short:

- Templates: text between tags and the values of `aria-label`, `title`, `placeholder`, `alt`
  and `aria-description` must come from `{% translate %}`/`{% blocktranslate %}` or from a
  variable; `{% comment %}`, `{# #}`, `<script>` and `<style>` are not text.
- Scripts: a string literal that reads like words (a capitalised word, two words, or a sentence
  ending in . ! ? … :) must be an argument of gettext/ngettext/pgettext, except where it is
  data: compared with ===/!==, an object key, a console message or an Error's, a selector or
  an element id, and identifiers (CamelCase, ALL CAPS, Header-Names). A single lowercase word
  reads like an identifier and is not flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TEMPLATE_DIRS = (ROOT / "templates", ROOT / "rooms" / "templates")
SCRIPT_DIRS = (ROOT / "static" / "js", ROOT / "rooms" / "static" / "rooms" / "js")

MARKING_CALLS = frozenset({"gettext", "ngettext", "pgettext", "npgettext"})
# Calls whose string arguments are data or developer text, not UI.
DATA_CALLS = frozenset(
    {
        "warn",
        "error",
        "log",
        "info",
        "debug",
        "Error",
        "TypeError",
        "ApiError",
        "querySelector",
        "querySelectorAll",
        "closest",
        "matches",
        "getElementById",
        "addEventListener",
        "removeEventListener",
        "createElement",
        "getAttribute",
        "hasAttribute",
        "removeAttribute",
        "startsWith",
        "endsWith",
        "includes",
        "api",
        "fetch",
        "WebSocket",
        "postMessage",
        "send",
    }
)
ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "aria-description")


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.text!r}"


# --- Templates ----------------------------------------------------------------------------------


def _blank(match: re.Match[str]) -> str:
    """Replace a span by spaces and its newlines, so line numbers still hold."""
    return re.sub(r"[^\n]", " ", match.group(0))


def template_findings(path: Path) -> list[Finding]:
    source = path.read_text(encoding="utf-8")
    text = source
    for pattern in (
        r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}",
        r"{#.*?#}",
        r"{%\s*blocktranslate\b.*?{%\s*endblocktranslate\s*%}",
        r"<script\b.*?</script>",
        r"<style\b.*?</style>",
    ):
        text = re.sub(pattern, _blank, text, flags=re.S)
    findings: list[Finding] = []
    # Template tags and variables are gone first (their own quotes would end an attribute).
    stripped = re.sub(r"{%.*?%}|{{.*?}}", _blank, text, flags=re.S)
    attribute = re.compile(r"\b(" + "|".join(ATTRIBUTES) + r')="([^"]*)"')
    for match in attribute.finditer(stripped):
        if re.search(r"[A-Za-z]", match.group(2)):
            line = stripped.count("\n", 0, match.start()) + 1
            findings.append(Finding(path, line, source.splitlines()[line - 1].strip()))
    # Text between tags.
    for match in re.finditer(r">([^<>]+)<", stripped):
        words = match.group(1).strip()
        if re.search(r"[A-Za-z]", words) and not re.fullmatch(r"&[a-z]+;", words):
            findings.append(Finding(path, stripped.count("\n", 0, match.start()) + 1, words))
    return findings


# --- Scripts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: str  # a template literal's placeholders become "{}"
    offset: int
    callee: str  # the function whose call the literal is an argument of, or ""
    before: str  # the code just before it (operators, keys)
    after: str


_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^")


def _literals(source: str) -> list[Literal]:
    """The string literals of a script, with the call each is an argument of. A small lexer:
    comments, strings, template literals (with ${} inside), regular expression literals."""
    found: list[Literal] = []
    calls: list[str] = []  # the callee of each open parenthesis ("" for grouping)
    i, n = 0, len(source)
    last_code = ""  # the last non-space code character, to tell a regex from a division

    def callee_before(pos: int) -> str:
        match = re.search(r"([A-Za-z_$][\w$]*)\s*$", source[:pos])
        return match.group(1) if match else ""

    while i < n:
        c = source[i]
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
            continue
        if source.startswith("/*", i):
            end = source.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if c in "\"'`":
            start, quote, parts, j = i, c, [], i + 1
            while j < n and source[j] != quote:
                if source[j] == "\\":
                    parts.append(source[j : j + 2])
                    j += 2
                    continue
                if quote == "`" and source.startswith("${", j):
                    depth, j = 1, j + 2
                    while j < n and depth:
                        depth += {"{": 1, "}": -1}.get(source[j], 0)
                        j += 1
                    parts.append("{}")
                    continue
                parts.append(source[j])
                j += 1
            found.append(
                Literal(
                    "".join(parts),
                    start,
                    calls[-1] if calls else "",
                    source[max(0, start - 40) : start],
                    source[j + 1 : j + 20],
                )
            )
            i = j + 1
            last_code = quote
            continue
        if c == "/" and (last_code in _REGEX_BEFORE or last_code == ""):
            j, in_class = i + 1, False
            while j < n and source[j] != "\n":
                if source[j] == "\\":
                    j += 2
                    continue
                if source[j] == "[":
                    in_class = True
                elif source[j] == "]":
                    in_class = False
                elif source[j] == "/" and not in_class:
                    break
                j += 1
            i = j + 1
            last_code = "/"
            continue
        if c == "(":
            calls.append(callee_before(i))
        elif c == ")" and calls:
            calls.pop()
        if not c.isspace():
            last_code = c
        i += 1
    return found


def _reads_like_words(value: str) -> bool:
    text = value.replace("{}", " ").strip()
    if not re.search(r"[A-Za-z]{2}", text) or ("<" in text and ">" in text):
        return False
    tokens = [t.strip("()[]\"'\u201c\u201d\u00ab\u00bb") for t in text.split()]
    tokens = [t for t in tokens if t]
    if not tokens:
        return False
    if len(tokens) == 1:
        word = tokens[0]
        if "{}" in value and re.search(r"\([A-Za-z'\u2019]{2,}\)", text):
            return True  # `${name} (you)`: a word beside a value
        if re.fullmatch(r"[A-Z][a-z]+[A-Z][\w]*|[A-Z0-9_]{2,}|[A-Z][A-Za-z]*-[A-Z][\w-]*", word):
            return False  # CamelCase, ALL CAPS, Header-Name
        return bool(re.fullmatch(r"[A-Z][a-z'\u2019]+[.!?…:]?|[a-z'\u2019]{2,}[.!?…]", word))
    if all(re.fullmatch(r"[a-z0-9_\-.#\[\]=\"':>*]+", t) for t in tokens) and any(
        re.search(r"[-_.#\[]", t) for t in tokens
    ):
        return False  # class lists and selectors
    return any(re.fullmatch(r"[A-Za-z'\u2019]{2,}[.,!?…:]?", t) for t in tokens)


def script_findings(path: Path) -> list[Finding]:
    source = path.read_text(encoding="utf-8")
    findings: list[Finding] = []
    for literal in _literals(source):
        if literal.callee in MARKING_CALLS or literal.callee in DATA_CALLS:
            continue
        if re.search(r"[!=]==?\s*$", literal.before) or re.match(r"\s*[!=]==?", literal.after):
            continue  # compared with: data (a key name, a code)
        if re.match(r"\s*:", literal.after) and re.search(r"[{,]\s*$", literal.before):
            continue  # an object key ({"key": ...}), not a ternary's branch (a ? "x" : "y")
        if re.search(r"\bimport\b|\bfrom\s*$", literal.before):
            continue  # a module path
        if re.search(r"\bin\s*$", literal.after[:4]) or re.match(r"\s+in\b", literal.after):
            continue  # "WebSocket" in window
        if _reads_like_words(literal.value):
            line = source.count("\n", 0, literal.offset) + 1
            findings.append(Finding(path, line, literal.value))
    return findings


def templates() -> list[Path]:
    return sorted(p for d in TEMPLATE_DIRS for p in d.rglob("*.html"))


def scripts() -> list[Path]:
    return sorted(p for d in SCRIPT_DIRS for p in d.rglob("*.js"))
