"""Figure builders: `<thing>_chart(df, ...) -> go.Figure`, one colour per programme everywhere."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

PROGRAM_COLORS = {
    # Okabe-Ito: distinguishable with the common colour-vision deficiencies.
    "skills": "#0072B2",
    "mindset": "#E69F00",
    "combined": "#009E73",
    "none": "#7F7F7F",
}
PROGRAM_LABELS = {
    "skills": "Skills training",
    "mindset": "Mindset training",
    "combined": "Combined",
    "none": "No training",
}
FONT_FAMILY = "Noto Sans, Noto Sans CJK SC, Arial, sans-serif"


def program_label(program: str) -> str:
    return PROGRAM_LABELS.get(program, str(program))


def program_color(program: str) -> str:
    return PROGRAM_COLORS.get(program, "#444444")


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
        template="plotly_white",
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


def placement_trend_chart(df: pd.DataFrame, min_cell: int) -> go.Figure:
    """Placement within 180 days of exit by quarterly enrollment cohort, one line per programme,
    with Wilson 95% error bars; suppressed cohorts leave gaps and incomplete cohorts are hollow."""
    title = "Placement within 180 days of exit, by enrollment quarter"
    if df.empty or df["placement_rate_180d"].notna().sum() == 0:
        return empty_chart(title, f"No cohort has {min_cell} or more people followed for 180 days.")
    fig = go.Figure()
    for program, part in df.groupby("program_type", sort=False):
        color = program_color(program)
        complete = part["is_complete"].astype(bool)
        fig.add_trace(
            go.Scatter(
                x=part["cohort_start"],
                y=part["placement_rate_180d"],
                mode="lines+markers",
                name=program_label(program),
                legendgroup=program,
                line={"color": color, "width": 2},
                marker={
                    "color": [color if c else "white" for c in complete],
                    "line": {"color": color, "width": 2},
                    "size": 8,
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": part["placement_rate_180d_high"] - part["placement_rate_180d"],
                    "arrayminus": part["placement_rate_180d"] - part["placement_rate_180d_low"],
                    "color": hex_to_rgba(color, 0.5),
                    "thickness": 1,
                },
                customdata=part[["placement_rate_180d_n", "placed_180d_count"]].to_numpy(),
                hovertemplate=(
                    "%{x|%Y Q%q}<br>%{y:.1%} placed within 180 days"
                    "<br>%{customdata[1]:,} of %{customdata[0]:,} followed<extra>%{fullData.name}</extra>"
                ),
            )
        )
    total = int(df["placement_rate_180d_n"].sum())
    style_figure(
        fig,
        title,
        f"Share placed, 95% Wilson intervals; n = {total:,} followed. Hollow markers: cohort not yet "
        f"fully observed. Gaps: fewer than {min_cell} people (suppressed).",
    )
    fig.update_yaxes(title="Placed within 180 days of exit", tickformat=".0%", rangemode="tozero")
    fig.update_xaxes(title="Enrollment quarter", dtick="M3", tickformat="%Y Q%q")
    return fig
