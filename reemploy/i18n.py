"""The languages of the interface: gettext catalogues compiled by Babel, the language of the
current page run, and numbers and dates written for it.

Every text the project writes for people goes through `_()` when it is used, so the same module
constant reads in the language of whichever session draws it. Text defined at import time
(labels, definitions) is marked with `N_()` for extraction and translated where it is shown.
Names from the data (districts, sectors, courses) are never translated.

The catalogues live in reemploy/locale/<lang>/LC_MESSAGES/messages.po (extracted with
`pybabel extract`, see docs/translation.md); they are compiled in memory on first use, so
there is no compiled file to keep in step.
"""

from __future__ import annotations

import contextvars
import functools
import gettext
import io
import re
from contextlib import contextmanager
from pathlib import Path

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

# Code in the link (?lang=zh) -> what the language choice shows (each in its own language).
LANGUAGES = {"zh": "简体中文", "en": "English"}
DEFAULT_LANGUAGE = "en"
# Code -> the gettext catalogue folder and the Babel locale that formats numbers and dates.
CATALOGUES = {"zh": "zh_CN"}
LOCALES = {"en": "en", "zh": "zh_Hans_CN"}
# The HTML `lang` of a document in each language.
HTML_LANG = {"en": "en", "zh": "zh-Hans"}

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"

_language: contextvars.ContextVar[str] = contextvars.ContextVar("reemploy_language",
                                                                default=DEFAULT_LANGUAGE)


def N_(message: str) -> str:
    """Mark a text for translation where it is defined; `_()` translates it where it is shown."""
    return message


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / CATALOGUES[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of a language (English is the source: no catalogue)."""
    if language not in CATALOGUES:
        return gettext.NullTranslations()
    with open(catalogue_path(language), "rb") as po:
        catalog = read_po(po, locale=CATALOGUES[language])
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def language() -> str:
    """The language of the current page run (or command)."""
    return _language.get()


def set_language(code: str | None) -> str:
    """Make `code` the language of this run; anything unknown falls back to English."""
    code = code if code in LANGUAGES else DEFAULT_LANGUAGE
    _language.set(code)
    return code


@contextmanager
def using(code: str):
    """Run a block in language `code` (a download made later, a pack, a test)."""
    token = _language.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


def bound(make, *args, **kwargs):
    """`make(*args, **kwargs)` as a callable that runs in the language current now: Streamlit
    makes a download's file when it is clicked, outside the page run that drew the button."""
    code = language()

    def run():
        with using(code):
            return make(*args, **kwargs)

    return run


def _(message: str) -> str:
    """`message` in the language of the current run."""
    return translations(language()).gettext(message)


def translate(message: str, language_code: str) -> str:
    return translations(language_code).gettext(message)


_QUALITY = re.compile(r"^\s*([A-Za-z-]+|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def from_accept_language(header: str | None) -> str:
    """The interface language for a browser's Accept-Language header: the first of its
    languages, by preference, that the dashboard has; English otherwise."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        match = _QUALITY.match(part)
        if not match:
            continue
        try:
            quality = float(match.group(2)) if match.group(2) is not None else 1.0
        except ValueError:
            continue
        ranked.append((-quality, position, match.group(1).lower()))
    for _quality, _position, tag in sorted(ranked):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def locale() -> Locale:
    return Locale.parse(LOCALES[language()])


def number(value: float, digits: int = 0) -> str:
    """A number grouped and rounded as the language writes it (1,234.5)."""
    return babel_numbers.format_decimal(value, format=f"#,##0{'.' + '0' * digits if digits else ''}",
                                        locale=locale())


def signed(value: float, digits: int = 0) -> str:
    """A change with its sign (+1.5, -0.3); a value that rounds to zero is "0" without one."""
    if round(value, digits) == 0:
        return number(0, digits)
    text = number(abs(value), digits)
    return ("+" if value > 0 else "-") + text


def percent(value: float, digits: int = 1) -> str:
    """A share (0.123) as a percentage (12.3%)."""
    pattern = f"#,##0{'.' + '0' * digits if digits else ''}%"
    return babel_numbers.format_percent(value, format=pattern, locale=locale())


def date(value) -> str:
    """A day as the language writes it in running text (2002-12-31 / 2002年12月31日)."""
    if language() == "en":
        return value.isoformat()[:10]
    return babel_dates.format_date(value, format="long", locale=locale())


def month(value) -> str:
    """A month (2002-12 / 2002年12月)."""
    if language() == "en":
        return f"{value.year:04d}-{value.month:02d}"
    return babel_dates.format_skeleton("yMMM", value, locale=locale())


def quarter(year: int, number_of_quarter: int) -> str:
    """A calendar quarter (2002 Q4 / 2002年第4季度)."""
    return _("{year} Q{quarter}").format(year=year, quarter=number_of_quarter)


def join(items: list[str]) -> str:
    """A list in running text: "A, B and C" / "A、B和C"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return _("{items} and {last}").format(items=_(", ").join(items[:-1]), last=items[-1])


def fixed(format_func):
    """`format_func` bound to the language current now: a widget's labels read the same
    whichever thread formats them (Streamlit's test runner formats a widget's value outside the
    page run, where no language is set)."""
    code = language()

    def formatted(value):
        with using(code):
            return format_func(value)

    return formatted


def inside_sentence(name: str) -> str:
    """A name placed inside a sentence or a longer name: English lowers its first letter
    ("Skills training" -> "skills training"), leaving acronyms ("WIOA") alone; other
    languages have no case."""
    if language() == "en" and name[:1].isupper() and not name[1:2].isupper():
        return name[0].lower() + name[1:]
    return name
