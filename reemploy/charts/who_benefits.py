"""Who benefits: outcomes by age band, gender and education as small multiples."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reemploy import i18n
from reemploy.charts.style import (LEGEND_AT_BOTTOM, empty_chart, hollow_legend_entry,
                                   program_legend_entry, style_figure)
from reemploy.definitions import metric_label
from reemploy.i18n import _
from reemploy.labels import covariate_label, level_label, program_color, program_label
from reemploy.figures.common import UNRELIABLE_BELOW
from reemploy.figures.who_benefits import CHARACTERISTIC_LEVELS

# The height of one panel (a characteristic) and the room between panels, in px.
PANEL_HEIGHT = 190
PANEL_GAP = 95


def _tick_label(characteristic: str, level: str) -> str:
    # two-word levels on two lines, so narrow panels need not tilt their labels as soon
    return level_label(characteristic, level).replace(" ", "<br>")


def outcomes_by_characteristic_chart(df: pd.DataFrame, measure: str, min_cell: int) -> go.Figure:
    """Small multiples for Who benefits: one panel per characteristic (age band, gender,
    education), stacked so each has the full width (its labels do not collide on a narrow
    screen; they tilt only when even that is too narrow), its levels on x, `measure` on y (the
    same scale in every panel) with 95% error bars, one colour per programme.
    Suppressed cells are not drawn (the subtitle counts them); cells under 30 people are hollow."""
    label = metric_label(measure)
    title = _("{measure}, by age band, gender and education").format(measure=label)
    if df.empty or df[measure].notna().sum() == 0:
        return empty_chart(title, _("No group has {min_cell} or more people for this "
                                    "measure.").format(min_cell=i18n.number(min_cell)))
    characteristics = [c for c in CHARACTERISTIC_LEVELS if c in set(df["characteristic"])]
    levels = {c: [lv for lv in CHARACTERISTIC_LEVELS[c]
                  if lv in set(df.loc[df["characteristic"] == c, "level"])]
              for c in characteristics}
    rows = len(characteristics)
    body = rows * PANEL_HEIGHT + (rows - 1) * PANEL_GAP
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=False,
                        subplot_titles=[covariate_label(c) for c in characteristics],
                        vertical_spacing=PANEL_GAP / body if rows > 1 else 0.0)
    is_rate = measure != "median_monthly_wage"
    for program, by_program in df.groupby("program_type", sort=False):
        color = program_color(program)
        program_legend_entry(fig, program, mode="markers")
        for column, characteristic in enumerate(characteristics, start=1):
            part = by_program[by_program["characteristic"] == characteristic]
            if part.empty:
                continue
            unreliable = part[f"{measure}_unreliable"].astype(bool)
            fig.add_trace(go.Scatter(
                x=[_tick_label(characteristic, lv) for lv in part["level"]],
                y=part[measure],
                mode="markers",
                name=program_label(program),
                legendgroup=program,
                showlegend=False,
                marker={"color": ["white" if u else color for u in unreliable], "size": 10,
                        "line": {"color": color, "width": 2}},
                error_y={"type": "data", "symmetric": False,
                         "array": part[f"{measure}_high"] - part[measure],
                         "arrayminus": part[measure] - part[f"{measure}_low"],
                         "color": color, "thickness": 1.5, "width": 4},
                customdata=list(zip(part[f"{measure}_n"], part[f"{measure}_low"],
                                    part[f"{measure}_high"])),
                hovertemplate=(
                    "%{x}<br>"
                    + (_("%{y:.1%} (95% CI %{customdata[1]:.1%} to %{customdata[2]:.1%})") if is_rate
                       else _("%{y:,.0f} yuan (95% CI %{customdata[1]:,.0f} to "
                              "%{customdata[2]:,.0f} yuan)"))
                    + "<br>" + _("n = %{customdata[0]:,}") + "<extra>%{fullData.name}</extra>"
                ),
            ), row=column, col=1)
    for column, characteristic in enumerate(characteristics, start=1):
        # explicit: the legend-only traces (x = None) would otherwise make the axis numeric
        fig.update_xaxes(type="category", categoryorder="array", row=column, col=1,
                         categoryarray=[_tick_label(characteristic, lv)
                                        for lv in levels[characteristic]])
    if df[f"{measure}_unreliable"].astype(bool).any():
        hollow_legend_entry(fig, _("Hollow: fewer than {count} people (unreliable)").format(
            count=i18n.number(UNRELIABLE_BELOW)))
    not_drawn = int((df[f"{measure}_suppressed"].astype(bool) & (df[f"{measure}_n"] > 0)).sum())
    total = int(df.loc[df["characteristic"] == characteristics[0], f"{measure}_n"].sum())
    subtitle = (_("95% Wilson intervals; n = {count}. Raw differences within each group, not "
                  "causal effects.") if is_rate else
                _("95% order-statistic intervals; n = {count}. Raw differences within each group, "
                  "not causal effects.")).format(count=i18n.number(total))
    if not_drawn:
        subtitle += "<br>" + (_("{count} groups not drawn: suppressed, listed below.") if not_drawn > 1
                              else _("{count} group not drawn: suppressed, listed below.")).format(
            count=i18n.number(not_drawn))
    # Room under the last panel for its labels (upright on a phone) and the legend.
    bottom = 160
    style_figure(fig, title, subtitle, height=body + bottom)
    fig.update_layout(scattermode="group", scattergap=0.5, margin={"b": bottom},
                      legend=LEGEND_AT_BOTTOM)
    # Level names on one line while they fit; tilted, then upright, when the screen is narrow.
    fig.update_xaxes(autotickangles=[0, 30, 90])
    # the panels share one scale, so the groups compare across them
    fig.update_yaxes(matches="y")
    if is_rate:
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    else:
        fig.update_yaxes(tickformat=",", rangemode="tozero")
    fig.update_yaxes(title=label if is_rate else _("{measure} (yuan)").format(measure=label),
                     row=1, col=1)
    return fig
