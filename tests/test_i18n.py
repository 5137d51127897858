"""Two languages: the catalogue covers every message, numbers and dates read right in each
language, the language follows the link, the sidebar and the browser, and a Chinese page holds
no English beyond names from the data."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from babel.messages.pofile import read_po

from reemploy import i18n, ui
from reemploy.extracts import open_extract

from conftest import run_app

ROOT = Path(__file__).resolve().parent.parent
PAGE_FILES = [page for page, _, _ in ui.PAGES]
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(T[0-9:.]+)?")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages the code marks, extracted as the docs say (docs/translation.md)."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-k", "N_", "-o", str(pot), "--omit-header", "--sort-by-file", "."],
                   cwd=ROOT, check=True, capture_output=True)
    with open(pot, "rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def chinese():
    with open(i18n.catalogue_path("zh"), "rb") as handle:
        return read_po(handle, locale="zh_CN")


def _ids(catalog) -> set[str]:
    return {message.id for message in catalog if message.id}


def test_every_message_in_the_code_has_a_chinese_translation(extracted, chinese):
    missing = sorted(_ids(extracted) - _ids(chinese))
    assert not missing, f"{len(missing)} messages not in messages.po (pybabel update): {missing[:5]}"
    untranslated = sorted(m.id for m in chinese if m.id and m.id in _ids(extracted)
                          and (not m.string or m.fuzzy))
    assert not untranslated, f"{len(untranslated)} without a translation: {untranslated[:5]}"


def test_a_translation_keeps_every_placeholder_and_markup(chinese):
    wrong = []
    for message in chinese:
        if not message.id or not message.string:
            continue
        if sorted(PLACEHOLDER.findall(message.id)) != sorted(PLACEHOLDER.findall(message.string)):
            wrong.append(message.id)
        for mark in ("**", "`"):
            if message.id.count(mark) != message.string.count(mark):
                wrong.append(message.id)
    assert not wrong, wrong[:5]


def test_the_catalogue_holds_no_message_the_code_no_longer_has(extracted, chinese):
    stale = sorted(_ids(chinese) - _ids(extracted))
    assert not stale, f"obsolete in messages.po (pybabel update removes them): {stale[:5]}"


def test_a_marked_message_reads_in_chinese_and_english():
    with i18n.using("zh"):
        assert i18n._("Clear filters") == "清除筛选条件"
    with i18n.using("en"):
        assert i18n._("Clear filters") == "Clear filters"
    assert i18n.language() == "en"  # using() restores the language it found


@pytest.mark.parametrize("header, expected", [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    ("en-GB,en;q=0.9,zh-CN;q=0.8", "en"),
    ("fr-FR,fr;q=0.9,zh-TW;q=0.5", "zh"),  # the first language the dashboard has
    ("de-DE,fr;q=0.8", "en"),
    ("en;q=0.1,zh;q=0.9", "zh"),  # by quality, not by position
    ("zh-Hans-CN", "zh"),
    ("", "en"),
    (None, "en"),
    ("garbage;;q=x", "en"),
])
def test_the_browser_language_decides_the_default(header, expected):
    assert i18n.from_accept_language(header) == expected


@pytest.mark.parametrize("code, expected", [
    ("en", ("1,234,567.9", "12.3%", "-4.5", "2002-12-31", "2002-12")),
    ("zh", ("1,234,567.9", "12.3%", "-4.5", "2002年12月31日", "2002年12月")),
])
def test_numbers_and_dates_are_written_for_the_language(code, expected):
    with i18n.using(code):
        got = (i18n.number(1234567.89, 1), i18n.percent(0.1234), i18n.signed(-4.49, 1),
               i18n.date(dt.date(2002, 12, 31)), i18n.month(dt.date(2002, 12, 1)))
    assert got == expected


def test_a_change_that_rounds_to_zero_has_no_sign():
    assert i18n.signed(-0.04, 1) == "0.0" and i18n.signed(0.04, 0) == "0"
    assert i18n.signed(0.05001, 1) == "+0.1"


def test_a_download_made_later_is_made_in_the_language_of_the_page_that_drew_it():
    with i18n.using("zh"):
        make = i18n.bound(lambda: i18n._("Clear filters"))
    assert i18n.language() == "en"
    assert make() == "清除筛选条件"


# -- the pages ------------------------------------------------------------------------------

# Words a Chinese page may show in Latin letters: sample sizes, file formats and the names of
# statistical methods, which Chinese statistics writes as they are.
ALLOWED_LATIN = {"n", "p", "PNG", "SVG", "CSV", "Excel", "HTML", "PDF", "UTF", "Parquet", "A",
                 "Kaplan", "Meier", "Wilson", "Newcombe", "Greenwood", "Wald", "sqrt", "Q",
                 # the field's standard and its literature, cited for analysts
                 "WIOA", "Card", "Kluve", "Weber"}


def _data_words(location: Path) -> set[str]:
    """Every word of every text value in the extract: names from the data stay as written."""
    extract = open_extract(location)
    words = set()
    con = duckdb.connect()
    for table in ("enrollments", "placements"):
        path = extract.table_path(table) if hasattr(extract, "table_path") else None
        path = path or next(Path(location).rglob(f"{table}.parquet"))
        frame = con.execute("select * from read_parquet(?)", [str(path)]).df()
        for column in frame.columns:
            if frame[column].dtype == object or str(frame[column].dtype).startswith("str"):
                for value in frame[column].dropna().unique():
                    words.update(re.findall(r"[A-Za-z]+", str(value)))
    return words


def _chart_texts(spec: dict) -> list[str]:
    texts = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("customdata", "meta", "uid", "template", "ids", "locations",
                         "featureidkey", "geojson", "legendgroup", "hoverinfo", "font", "xaxis",
                         "yaxis", "coloraxis", "type", "mode", "orientation", "shape", "symbol",
                         "fill", "marker", "line", "textposition", "xref", "yref", "anchor",
                         "side", "automargin", "ticks", "tickformat", "hoverformat",
                         "fillcolor", "color", "colorscale", "bgcolor", "bordercolor",
                         "xanchor", "yanchor", "valign", "align", "layer", "pattern",
                         "textinfo", "arrangement", "position", "matches", "overlaying",
                         "domain", "range", "dtick", "tick0", "autorange", "categoryorder",
                         "barmode", "hovermode", "dragmode", "clickmode", "scaleanchor",
                         "visible", "showlegend", "tickmode", "exponentformat", "family",
                         "scope", "projection", "fitbounds", "selectdirection", "yaxis2",
                         "tickson", "hoveron", "boxpoints", "legendrank", "bdata", "dtype",
                         "zmin", "zmax", "zmid", "rangemode", "scattermode",
                         "insidetextanchor", "traceorder"):
                    continue
                walk(v, k)
        elif isinstance(node, list):
            for item in node:
                walk(item, key)
        elif isinstance(node, str) and not ISO_TIME.fullmatch(node):
            texts.append(node)

    walk(spec.get("data", []))
    walk(spec.get("layout", {}))
    return texts


def _page_texts(at) -> list[str]:
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                 "error", "success", "exception"):
        texts += [element.value for element in getattr(at, kind)]
    for metric in at.metric:
        texts += [metric.label, metric.value, metric.proto.delta or "",
                  getattr(metric.proto, "delta_description", "") or ""]
    for kind in ("radio", "selectbox", "multiselect", "button", "toggle", "checkbox",
                 "segmented_control"):
        for widget in getattr(at, kind, []):
            texts.append(widget.label or "")
            texts.append(getattr(widget.proto, "help", "") or "")
            texts += [str(o) for o in getattr(widget, "options", []) or []]
            texts.append(getattr(widget.proto, "placeholder", "") or "")
    for expander in at.expander:
        texts.append(expander.label)
    for frame in list(at.dataframe) + list(at.table):
        value = frame.value
        texts += [str(c) for c in value.columns]
        texts += [str(c) for c in value.index if isinstance(c, str)]
        for column in value.columns:
            texts += [str(v) for v in value[column] if isinstance(v, str)]
    for chart in at.get("plotly_chart"):
        texts += _chart_texts(json.loads(chart.proto.spec))
    for element in at.get("download_button"):
        texts += [element.proto.label, element.proto.help]
    return [t for t in texts if t]


def _latin_words(text: str) -> list[str]:
    text = re.sub(r"`[^`]*`", " ", text)  # commands and paths an operator types, as code
    text = re.sub(r"https?://\S+", " ", text)  # the dashboard's own links
    text = re.sub(r"<[^>]+>", " ", text)  # markup around the words
    text = re.sub(r"&[a-z]+;", " ", text)  # Plotly's escaped < > &
    text = re.sub(r":material/[a-z_]+:", " ", text)
    text = re.sub(r":(blue|orange|green|gray|red|violet|rainbow)\[", " ", text)
    text = re.sub(r"%\{[^}]*\}", " ", text)  # Plotly's hover fields
    text = re.sub(r"#[0-9A-Fa-f]{3,8}\b", " ", text)
    return re.findall(r"[A-Za-z]+", text)


@pytest.mark.parametrize("page", PAGE_FILES)
def test_a_chinese_page_holds_no_english_beyond_names_from_the_data(tiny_extract, monkeypatch, page):
    at = run_app(tiny_extract, monkeypatch, page, lang="zh")
    assert not at.exception, at.exception
    allowed = ALLOWED_LATIN | _data_words(tiny_extract) | {"Language", "English"}
    english = {}
    for text in _page_texts(at):
        words = [w for w in _latin_words(text) if w not in allowed]
        if words:
            english[text[:120]] = words
    assert not english, json.dumps(english, ensure_ascii=False, indent=1)[:3000]


@pytest.mark.parametrize("page", PAGE_FILES)
def test_an_english_page_holds_no_chinese_beyond_names_from_the_data(tiny_extract, monkeypatch, page):
    at = run_app(tiny_extract, monkeypatch, page, lang="en")
    assert not at.exception, at.exception
    names = set()
    for words in (re.findall(r"[\u4e00-\u9fff]+", w) for w in _data_words_cjk(tiny_extract)):
        names.update(words)
    chinese = [text[:120] for text in _page_texts(at)
               if any(run not in names and "简体中文" not in text and run != "语言"
                      for run in re.findall(r"[\u4e00-\u9fff]+", text))]
    assert not chinese, chinese[:5]


def _data_words_cjk(location: Path) -> set[str]:
    values = set()
    con = duckdb.connect()
    for path in Path(location).rglob("*.parquet"):
        frame = con.execute("select * from read_parquet(?)", [str(path)]).df()
        for column in frame.columns:
            if frame[column].dtype == object or str(frame[column].dtype).startswith("str"):
                values.update(str(v) for v in frame[column].dropna().unique())
    return values


def test_the_language_comes_from_the_link_and_stays_across_pages(tiny_extract, monkeypatch):
    at = run_app(tiny_extract, monkeypatch, lang="zh")
    assert at.title[0].value == "再就业培训成效"
    assert at.query_params["lang"] in ("zh", ["zh"])
    for page in PAGE_FILES[1:]:
        at.switch_page(str(ROOT / page)).run()
        assert not at.exception
        assert at.sidebar.segmented_control(key="lang").value == "zh", page
        assert at.query_params["lang"] in ("zh", ["zh"]), page


def test_the_sidebar_choice_changes_the_language_and_the_link(tiny_extract, monkeypatch):
    at = run_app(tiny_extract, monkeypatch)
    assert at.title[0].value == "Re-employment outcomes"  # no link, no browser locale: English
    at.sidebar.segmented_control(key="lang").set_value("zh").run()
    assert at.title[0].value == "再就业培训成效"
    assert at.query_params["lang"] in ("zh", ["zh"])
    at.switch_page(str(ROOT / "pages/trends.py")).run()
    assert at.title[0].value == "趋势"


def test_an_unknown_language_in_the_link_falls_back_to_english(tiny_extract, monkeypatch):
    at = run_app(tiny_extract, monkeypatch, lang="xx")
    assert not at.exception
    assert at.title[0].value == "Re-employment outcomes"
    assert not [w.value for w in at.warning if "lang" in w.value]  # not a filter: no notice
