"""The house look every chart shares: the layout (title, subtitle, font, legend below the plot),
the notice drawn instead of empty axes, colour and legend helpers used across the pages' charts."""

from __future__ import annotations

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


def style_figure(fig: go.Figure, title: str, subtitle: str = "", height: int = 420) -> go.Figure:
    """The house layout: a title that says what is shown, a subtitle with n or caveats."""
    fig.update_layout(
        title={"text": title, "subtitle": {"text": subtitle}} if subtitle else {"text": title},
        font={"family": FONT_FAMILY, "size": 13},
        height=height,
        margin={"l": 70, "r": 20, "t": 90 if subtitle else 60, "b": 110},
        # Below the plot: a legend at the top collides with long subtitles.
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "xanchor": "left", "x": 0.0},
        hovermode="closest",
    )
    return fig


def empty_chart(title: str, message: str) -> go.Figure:
    """A chart-sized notice instead of empty axes."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 15}, x=0.5, y=0.5,
                       xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style_figure(fig, title, height=300)


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
