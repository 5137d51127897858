"""Trends and the Overview: cohort outcomes and enrollments by quarterly enrollment cohort."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from reemploy.charts.style import (HOLLOW_NOTE_COLOR, empty_chart, hex_to_rgba, hollow_legend_entry,
                                   program_legend_entry, style_figure)
from reemploy.definitions import metric_label
from reemploy.labels import program_color, program_label
from reemploy.figures.trends import COHORT_MEASURES

INCOMPLETE_SHADE = "rgba(127,127,127,0.12)"


def _trailing_incomplete_start(df: pd.DataFrame, complete: str):
    """The earliest quarter from which some programme has only not-yet-complete cohorts left."""
    starts = []
    for _, part in df.groupby("program_type", sort=False):
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
    title = f"{label}, by enrollment quarter"
    if df.empty or df[measure].notna().sum() == 0:
        return empty_chart(title, f"No cohort has {min_cell} or more people followed long enough.")
    fig = go.Figure()
    for program, part in df.groupby("program_type", sort=False):
        color = program_color(program)
        done = part[complete].astype(bool)
        status = ["" if d else "<br><i>not yet fully observed</i>" for d in done]
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
                customdata=list(zip(part[f"{measure}_n"], part[successes], status)),
                hovertemplate=(
                    f"%{{x|%Y Q%q}}<br>%{{y:.1%}} {label.lower()}"
                    "<br>%{customdata[1]:,} of %{customdata[0]:,} followed%{customdata[2]}"
                    "<extra>%{fullData.name}</extra>"
                ),
            )
        )
    start = _trailing_incomplete_start(df, complete)
    if start is not None:
        half_quarter = pd.Timedelta(days=45)
        fig.add_vrect(x0=start - half_quarter, x1=df["cohort_start"].max() + half_quarter,
                      fillcolor=INCOMPLETE_SHADE, line_width=0, layer="below",
                      annotation_text="not yet fully observed", annotation_position="top left",
                      annotation_font={"size": 11, "color": HOLLOW_NOTE_COLOR})
    if not df[complete].astype(bool).all():
        hollow_legend_entry(fig, "Hollow: not yet fully observed (partial, not a fall)")
    total = int(df[f"{measure}_n"].sum())
    style_figure(
        fig,
        title,
        f"Share placed, 95% Wilson intervals; n = {total:,} followed. Hollow and shaded: cohorts "
        f"not yet followed for the full period.<br>Gaps: fewer than {min_cell} people, or a quarter "
        "that would give such a quarter away (suppressed).",
        height=460,
    )
    fig.update_yaxes(title=label, tickformat=".0%", rangemode="tozero")
    _quarter_axis(fig)
    return fig


def _quarter_axis(fig: go.Figure) -> None:
    # A labelled tick every quarter crowds and tilts over five years: label each Q1, grid each
    # quarter. The type is explicit because legend-only traces (x = None) come first.
    fig.update_xaxes(title="Enrollment quarter", type="date", dtick="M12", tick0="2000-01-01",
                     tickformat="%Y Q%q",
                     minor={"dtick": "M3", "showgrid": True, "gridcolor": "#f3f3f3"})


def cohort_enrollment_chart(df: pd.DataFrame) -> go.Figure:
    """Enrollments per quarter and programme; a quarter still running at as_of is hollow."""
    title = "Enrollments per quarter, by programme"
    if df.empty:
        return empty_chart(title, "No enrollments under these filters.")
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
            hovertemplate="%{x|%Y Q%q}<br>%{y:,} enrolled<extra>%{fullData.name}</extra>",
        ))
    subtitle = (f"People enrolling in each quarter; n = {int(df['enrolled_count'].sum()):,} "
                "enrollments.")
    if df["is_open_quarter"].astype(bool).any():
        hollow_legend_entry(fig, "Hollow: quarter still running at as_of (partial count)")
        subtitle += " The last quarter was still running at as_of."
    style_figure(fig, title, subtitle, height=440)
    fig.update_yaxes(title="Enrollments (people)", rangemode="tozero", tickformat=",")
    _quarter_axis(fig)
    return fig


def placement_trend_chart(df: pd.DataFrame, min_cell: int) -> go.Figure:
    """Placement within 180 days of exit by quarterly enrollment cohort (Overview): the
    180-day case of cohort_outcome_chart."""
    return cohort_outcome_chart(df, min_cell, "placement_rate_180d")
