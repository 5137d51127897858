"""Trends and the Overview: cohort outcomes and enrollments by quarterly enrollment cohort."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from reemploy.charts.style import (HOLLOW_NOTE_COLOR, LEGEND_AT_BOTTOM, empty_chart, hex_to_rgba, hollow_legend_entry,
                                   program_legend_entry, style_figure)
from reemploy import i18n
from reemploy.definitions import metric_label
from reemploy.i18n import _
from reemploy.labels import program_color, program_label
from reemploy.figures.trends import COHORT_MEASURES

INCOMPLETE_SHADE = "rgba(127,127,127,0.12)"


def _trailing_incomplete_start(df: pd.DataFrame, complete: str):
    """The earliest quarter from which some programme has only not-yet-complete cohorts left."""
    starts = []
    for _program, part in df.groupby("program_type", sort=False):
        done = part.loc[part[complete].astype(bool), "cohort_start"]
        tail = part if done.empty else part[part["cohort_start"] > done.max()]
        if not tail.empty:
            starts.append(tail["cohort_start"].min())
    return min(starts) if starts else None


def cohort_outcome_chart(df: pd.DataFrame, min_cell: int,
                         measure: str = "placement_rate_180d") -> go.Figure:
    """A cohort placement rate (figures.trends.COHORT_MEASURES) by quarterly enrollment cohort, one line
    per programme with Wilson 95% error bars. Cohorts not yet fully observed are hollow and the
    quarters where they begin are shaded, so the partial rates of recent cohorts do not read as a
    fall; suppressed cohorts leave gaps."""
    successes, complete = COHORT_MEASURES[measure]
    label = metric_label(measure)
    title = _("{measure}, by enrollment quarter").format(measure=label)
    if df.empty or df[measure].notna().sum() == 0:
        return empty_chart(title, _("No cohort has {min_cell} or more people followed long "
                                    "enough.").format(min_cell=i18n.number(min_cell)))
    fig = go.Figure()
    for program, part in df.groupby("program_type", sort=False):
        color = program_color(program)
        done = part[complete].astype(bool)
        status = ["" if d else "<br><i>" + _("not yet fully observed") + "</i>" for d in done]
        program_legend_entry(fig, program)
        fig.add_trace(
            go.Scatter(
                x=part["cohort_start"],
                y=part[measure],
                mode="lines+markers",
                name=program_label(program),
                legendgroup=program,
                showlegend=False,
                line={"color": color, "width": 2},
                marker={"color": [color if d else "white" for d in done],
                        "line": {"color": color, "width": 2}, "size": 8},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": part[f"{measure}_high"] - part[measure],
                    "arrayminus": part[measure] - part[f"{measure}_low"],
                    "color": hex_to_rgba(color, 0.5),
                    "thickness": 1,
                },
                customdata=list(zip(part[f"{measure}_n"], part[successes], status,
                                    [i18n.quarter(d.year, (d.month - 1) // 3 + 1)
                                     for d in pd.to_datetime(part["cohort_start"])])),
                hovertemplate=(
                    "%{customdata[3]}<br>"
                    + _("{measure}: {value}").format(measure=label, value="%{y:.1%}")
                    + "<br>" + _("%{customdata[1]:,} of %{customdata[0]:,} followed")
                    + "%{customdata[2]}<extra>%{fullData.name}</extra>"
                ),
            )
        )
    start = _trailing_incomplete_start(df, complete)
    if start is not None:
        half_quarter = pd.Timedelta(days=45)
        fig.add_vrect(x0=start - half_quarter, x1=df["cohort_start"].max() + half_quarter,
                      fillcolor=INCOMPLETE_SHADE, line_width=0, layer="below",
                      annotation_text=_("not yet fully observed"), annotation_position="top left",
                      annotation_font={"size": 11, "color": HOLLOW_NOTE_COLOR})
    if not df[complete].astype(bool).all():
        hollow_legend_entry(fig, _("Hollow: not yet fully observed (partial, not a fall)"))
    total = int(df[f"{measure}_n"].sum())
    style_figure(
        fig,
        title,
        _("Share placed, 95% Wilson intervals; n = {count} followed. Hollow and shaded: cohorts "
          "not yet followed for the full period.").format(count=i18n.number(total)) + "<br>"
        + _("Gaps: fewer than {min_cell} people, or a quarter that would give such a quarter away "
            "(suppressed).").format(min_cell=i18n.number(min_cell)),
        height=400,
    )
    fig.update_yaxes(title=label, tickformat=".0%", rangemode="tozero")
    _quarter_axis(fig)
    return fig


def _quarter_axis(fig: go.Figure) -> None:
    # The legend at the bottom edge, under the quarter labels (tilted on a narrow screen).
    fig.update_layout(legend=LEGEND_AT_BOTTOM, margin={"b": 140})
    # A labelled tick every quarter crowds and tilts over five years: label each Q1, grid each
    # quarter. The type is explicit because legend-only traces (x = None) come first.
    fig.update_xaxes(title=_("Enrollment quarter"), type="date", dtick="M12", tick0="2000-01-01",
                     tickformat=_("%Y Q%q"),
                     minor={"dtick": "M3", "showgrid": True, "gridcolor": "#f3f3f3"})


def cohort_enrollment_chart(df: pd.DataFrame) -> go.Figure:
    """Enrollments per quarter and programme; a quarter still running at as_of is hollow."""
    title = _("Enrollments per quarter, by programme")
    if df.empty:
        return empty_chart(title, _("No enrollments under these filters."))
    fig = go.Figure()
    for program, part in df.groupby("program_type", sort=False):
        color = program_color(program)
        open_quarter = part["is_open_quarter"].astype(bool)
        program_legend_entry(fig, program)
        fig.add_trace(go.Scatter(
            x=part["cohort_start"],
            y=part["enrolled_count"],
            mode="lines+markers",
            name=program_label(program),
            legendgroup=program,
            showlegend=False,
            line={"color": color, "width": 2},
            marker={"color": ["white" if o else color for o in open_quarter],
                    "line": {"color": color, "width": 2}, "size": 7},
            customdata=[[i18n.quarter(d.year, (d.month - 1) // 3 + 1)]
                        for d in pd.to_datetime(part["cohort_start"])],
            hovertemplate="%{customdata[0]}<br>" + _("%{y:,} enrolled")
            + "<extra>%{fullData.name}</extra>",
        ))
    subtitle = _("People enrolling in each quarter; n = {count} enrollments.").format(
        count=i18n.number(int(df["enrolled_count"].sum())))
    if df["is_open_quarter"].astype(bool).any():
        hollow_legend_entry(fig, _("Hollow: quarter still running at the data date (partial "
                                   "count)"))
        subtitle += " " + _("The last quarter was still running at the data date.")
    style_figure(fig, title, subtitle, height=380)
    fig.update_yaxes(title=_("Enrollments (people)"), rangemode="tozero", tickformat=",")
    _quarter_axis(fig)
    return fig


def placement_trend_chart(df: pd.DataFrame, min_cell: int) -> go.Figure:
    """Placement within 180 days of exit by quarterly enrollment cohort (Overview): the
    180-day case of cohort_outcome_chart."""
    return cohort_outcome_chart(df, min_cell, "placement_rate_180d")
