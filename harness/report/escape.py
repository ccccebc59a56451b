"""Text from outside, made inert for each output. The one place that escapes.

Whatever a scenario author, the system under test or the machine wrote (names, paths,
field keys, values, error messages, log lines) can hold what an output would obey: rich
console markup (``[/red]`` is an error, ``[link=...]`` a hyperlink), emoji codes (``:100:``
in ``file:100:`` becomes 💯 and the line is lost), terminal control sequences (ESC,
right-to-left overrides), Markdown and HTML syntax, characters XML 1.0 cannot carry.
Every reporter and the CLI pass such text through one of these functions, never their own.

- ``console``: a rich ``Text``, which rich never parses for markup or emoji codes;
- ``visible``: control characters shown as ``\\xNN`` (plain text: pytest, the console);
- ``markdown``, ``html``, ``xml``: text safe in a Markdown line or table cell, in HTML
  element content or attribute values, in an XML document.
"""

from __future__ import annotations

import html as _html
import re

from rich.text import Text

_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)
"""Characters a terminal or a reader would act on rather than show: C0/C1 controls (ESC
among them; tab and newline stay), zero-width and direction marks, bidirectional overrides
and isolates, line and paragraph separators, the BOM."""
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
"""Colour and cursor sequences (CSI) and terminal commands such as hyperlinks (OSC)."""
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_MARKDOWN = re.compile(r"[\\`*_\[\]|~<>&]")
"""What Markdown acts on inside a line: emphasis, code, links and images, table cells,
strikethrough, HTML and entities. (Markers that matter only at the start of a line, such
as ``#`` or ``-``, cannot: every piece of outside text is placed after our own words.)"""
_MARKDOWN_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def _shown(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def without_ansi(text: str) -> str:
    """``text`` without terminal colour codes (a system's coloured log lines)."""
    return _ANSI.sub("", text)


def visible(text: object) -> str:
    """``str(text)`` with every control, direction or zero-width character as ``\\xNN``."""
    return _CONTROL.sub(lambda m: _shown(m.group()), str(text))


def console(*parts: str | tuple[str, str] | Text, style: str = "") -> Text:
    """Rich text from pieces (``"text"`` or ``("text", "style")``), none ever read as
    markup or emoji codes, control characters made visible. Our own words may be pieces
    too: they pass unchanged."""
    text = Text(style=style)
    for part in parts:
        if isinstance(part, Text):
            text.append_text(part)
        elif isinstance(part, tuple):
            text.append(visible(part[0]), style=part[1])
        else:
            text.append(visible(part))
    return text


def markdown(text: object) -> str:
    """Text for inside one Markdown line or table cell, on one line, rendered as written:
    no emphasis, code, link, image, HTML or broken table. (GitHub still shows a known
    ``:name:`` as its emoji and links ``@name``: its renderer does that to plain text.)"""
    one_line = visible(" ".join(str(text).splitlines()))
    return _MARKDOWN.sub(lambda m: _MARKDOWN_ESCAPES.get(m.group(), "\\" + m.group()), one_line)


def html(text: object) -> str:
    """Text for HTML (and SVG) element content or a quoted attribute value."""
    return _html.escape(visible(text), quote=True)


def xml(text: object) -> str:
    """Text XML 1.0 can carry (ElementTree escapes the markup characters itself): colour
    codes dropped, other illegal characters shown as ``\\xNN`` (a raw one makes the whole
    file unreadable to every parser)."""
    return _ILLEGAL_XML.sub(lambda m: _shown(m.group()), without_ansi(str(text)))
