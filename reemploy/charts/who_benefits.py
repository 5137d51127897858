"""Who benefits: outcomes by age band, gender and education as small multiples."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reemploy.charts.style import empty_chart, hollow_legend_entry, program_legend_entry, style_figure
from reemploy.definitions import metric_label
from reemploy.labels import COVARIATE_LABELS, level_label, program_color, program_label
from reemploy.figures.common import UNRELIABLE_BELOW
from reemploy.figures.who_benefits import CHARACTERISTIC_LEVELS

def _tick_label(characteristic: str, level: str) -> str:
    # two-word levels on two lines, so narrow panels need not tilt their labels
    return level_label(characteristic, level).replace(" ", "<br>")


def outcomes_by_characteristic_chart(df: pd.DataFrame, measure: str, min_cell: int) -> go.Figure:
    """Small multiples for Who benefits: one panel per characteristic (age band, gender,
    education), its levels on x, `measure` on y with 95% error bars, one colour per programme.
    Suppressed cells are not drawn (the subtitle counts them); cells under 30 people are hollow."""
    label = metric_label(measure)
    title = f"{label}, by age band, gender and education"
    if df.empty or df[measure].notna().sum() == 0:
        return empty_chart(title, f"No group has {min_cell} or more people for this measure.")
    characteristics = [c for c in CHARACTERISTIC_LEVELS if c in set(df["characteristic"])]
    levels = {c: [lv for lv in CHARACTERISTIC_LEVELS[c]
                  if lv in set(df.loc[df["characteristic"] == c, "level"])]
              for c in characteristics}
    fig = make_subplots(rows=1, cols=len(characteristics), shared_yaxes=True,
                        # education's two-line labels need a little more room per level
                        column_widths=[len(levels[c]) + (3 if c == "education" else 1)
                                       for c in characteristics],
                        subplot_titles=[COVARIATE_LABELS.get(c, c) for c in characteristics],
                        horizontal_spacing=0.03)
    is_rate = measure != "median_monthly_wage"
    value_format = "%{y:.1%}" if is_rate else "%{y:,.0f} yuan"
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
                    f"%{{x}}<br>{value_format}"
                    + (" (95% CI %{customdata[1]:.1%} to %{customdata[2]:.1%})" if is_rate
                       else " (95% CI %{customdata[1]:,.0f} to %{customdata[2]:,.0f})")
                    + "<br>n = %{customdata[0]:,}<extra>%{fullData.name}</extra>"
                ),
            ), row=1, col=column)
    for column, characteristic in enumerate(characteristics, start=1):
        # explicit: the legend-only traces (x = None) would otherwise make the axis numeric
        fig.update_xaxes(type="category", categoryorder="array", row=1, col=column,
                         categoryarray=[_tick_label(characteristic, lv)
                                        for lv in levels[characteristic]])
    if df[f"{measure}_unreliable"].astype(bool).any():
        hollow_legend_entry(fig, f"Hollow: fewer than {UNRELIABLE_BELOW} people (unreliable)")
    not_drawn = int((df[f"{measure}_suppressed"].astype(bool) & (df[f"{measure}_n"] > 0)).sum())
    total = int(df.loc[df["characteristic"] == characteristics[0], f"{measure}_n"].sum())
    interval = "Wilson" if is_rate else "order-statistic"
    subtitle = (f"95% {interval} intervals; n = {total:,}. Raw differences within each group, "
                "not causal effects.")
    if not_drawn:
        subtitle += (f"<br>{not_drawn} group{'s' if not_drawn > 1 else ''} not drawn: suppressed, "
                     "listed below.")
    style_figure(fig, title, subtitle, height=480)
    # room for the panel titles under a two-line subtitle
    fig.update_layout(scattermode="group", scattergap=0.5, margin={"t": 120})
    fig.update_xaxes(tickangle=0)
    if is_rate:
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    else:
        fig.update_yaxes(tickformat=",", rangemode="tozero")
    fig.update_yaxes(title=label if is_rate else f"{label} (yuan)", row=1, col=1)
    return fig
