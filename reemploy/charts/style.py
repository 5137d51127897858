"""The house look every chart shares: the layout (title, subtitle, font, legend below the plot),
the notice drawn instead of empty axes, colour and legend helpers used across the pages' charts."""

from __future__ import annotations

import re
import unicodedata

import plotly.graph_objects as go
import plotly.io as pio

from reemploy.formatting import plotly_text
from reemploy.labels import FONT_FAMILY, program_color, program_label

HOUSE_TEMPLATE = "plotly_white"


def use_house_template() -> None:
    """Make the house template Plotly's default, for what draws or serialises figures (a page
    run, the pack, an image), never on import. A default rather than `template=` on every
    figure: passing it validates and deep-copies the whole template each time
    (docs/performance.md), while the default is attached when a figure is serialised; the JSON
    is the same either way."""
    pio.templates.default = HOUSE_TEMPLATE


def hex_to_rgba(color: str, alpha: float) -> str:
    color = color.lstrip("#")
    red, green, blue = (int(color[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"


# Plotly does not wrap titles: they are broken into lines here, short enough for a phone
# (about 360 px of chart in a 390 px screen), in display units (a Chinese character counts two).
TITLE_WIDTH = 44
SUBTITLE_WIDTH = 60
NOTICE_WIDTH = 48
TITLE_LINE_PX = 21
SUBTITLE_LINE_PX = 15
# Axis titles are not wrapped by Plotly either: long ones get lines of this many units.
AXIS_TITLE_WIDTH = 28

_TOKENS = re.compile(r"<br\s*/?>|<[^>]*>|&[#\w]+;|\s+|[^\s<&]")
# Punctuation a Chinese line does not start with.
_NO_LINE_START = set("，。、；：？！）》」』”’%）,.;:?!)")


def _width(token: str) -> int:
    if token.startswith("<") or not token:
        return 0
    if token.startswith("&"):
        return 1
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in token)


def _is_wide(token: str) -> bool:
    return len(token) == 1 and unicodedata.east_asian_width(token) in "WF"


def wrap_text(text: str, width: int) -> str:
    """`text` (Plotly's pseudo-HTML) broken with <br> into lines of at most `width` display
    units: between words, or between any two Chinese characters; tags and entities are kept
    whole, existing <br> are kept."""
    lines_out = []
    for line in re.split(r"<br\s*/?>", text):
        tokens = _TOKENS.findall(line)
        # Words: runs of narrow characters (and the tags and entities inside them) stay together.
        words: list[str] = []
        for token in tokens:
            glue = (words and not token.isspace() and not _is_wide(token)
                    and not words[-1].isspace() and not _is_wide(words[-1][-1:]))
            if token in _NO_LINE_START and words and not words[-1].isspace():
                glue = True
            if glue:
                words[-1] += token
            else:
                words.append(token)
        current, used = "", 0
        for word in words:
            size = _width(re.sub(r"<[^>]*>", "", word)) if not word.startswith("<") else 0
            if word.isspace():
                if current:
                    current, used = current + " ", used + 1
                continue
            if used and used + size > width:
                lines_out.append(current.rstrip())
                current, used = "", 0
            current, used = current + word, used + size
        lines_out.append(current.rstrip())
    return "<br>".join(lines_out)


def header_height(title: str, subtitle: str = "") -> int:
    """The top margin the (wrapped) title and subtitle need."""
    lines = wrap_text(title, TITLE_WIDTH).count("<br>") + 1
    top = 20 + TITLE_LINE_PX * lines
    if subtitle:
        top += 4 + SUBTITLE_LINE_PX * (wrap_text(subtitle, SUBTITLE_WIDTH).count("<br>") + 1)
    return top + 22


def axis_title(text: str) -> str:
    """An axis title broken into lines that fit under a narrow plot."""
    return wrap_text(text, AXIS_TITLE_WIDTH)


def style_figure(fig: go.Figure, title: str, subtitle: str = "", height: int = 420) -> go.Figure:
    """The house layout: a title that says what is shown, a subtitle with n or caveats, both
    wrapped to read on a phone; `height` is the height of the chart under the title, which the
    figure gets on top of it (the header grows with the lines it wraps into). Axis labels push the margins (automargin) instead of being cut."""
    top = header_height(title, subtitle)
    text = wrap_text(title, TITLE_WIDTH)
    fig.update_layout(
        title={"text": text, "subtitle": {"text": wrap_text(subtitle, SUBTITLE_WIDTH)},
               "x": 0.02, "xanchor": "left", "y": 1.0, "yanchor": "top", "yref": "container",
               "pad": {"t": 20}, "font": {"size": 16}}
        if subtitle else {"text": text, "x": 0.02, "xanchor": "left", "y": 1.0, "yanchor": "top",
                          "yref": "container", "pad": {"t": 20}, "font": {"size": 16}},
        font={"family": FONT_FAMILY, "size": 13},
        height=height + top,
        margin={"l": 70, "r": 20, "t": top, "b": 110},
        # Below the plot: a legend at the top collides with long subtitles.
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "xanchor": "left", "x": 0.0},
        hovermode="closest",
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def empty_chart(title: str, message: str) -> go.Figure:
    """A chart-sized notice instead of empty axes."""
    fig = go.Figure()
    fig.add_annotation(text=wrap_text(message, NOTICE_WIDTH), showarrow=False, font={"size": 14},
                       x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style_figure(fig, title, height=220)


# The house legend sits a fixed share of the plot height below it, which meets the x-axis title
# on short charts; anchored to the bottom edge of the figure it stays clear of it.
LEGEND_AT_BOTTOM = {"yref": "container", "y": 0.0, "yanchor": "bottom"}
# The outline of hollow markers in the legend entry that explains them.
HOLLOW_NOTE_COLOR = "#555555"


def program_legend_entry(fig: go.Figure, program: str, mode: str = "lines+markers") -> None:
    """A legend-only entry in the programme's colour, filled: the legend otherwise copies the
    first point's marker, which may be hollow."""
    color = program_color(program)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode=mode, name=program_label(program),
                             legendgroup=program, hoverinfo="skip", line={"color": color, "width": 2},
                             marker={"color": color, "size": 8, "line": {"color": color, "width": 2}}))


def hollow_legend_entry(fig: go.Figure, text: str, **trace_options) -> None:
    """A legend-only entry explaining what hollow markers mean."""
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=text, hoverinfo="skip",
                             marker={"color": "white", "size": 8,
                                     "line": {"color": HOLLOW_NOTE_COLOR, "width": 2}},
                             **trace_options))


def legend_offset(height: int, top: int, bottom: int, below: int = 62) -> float:
    """The legend's y (paper units) that puts it `below` px under the plot, under the x title."""
    return -below / max(1, height - top - bottom)


def bold_selected(names: list[str], selected: set[str]) -> list[str]:
    return [f"<b>▶ {plotly_text(n)}</b>" if n in selected else plotly_text(n) for n in names]
