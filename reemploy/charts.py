"""Figure builders: `<thing>_chart(df, ...) -> go.Figure`, one colour per programme everywhere."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from reemploy.definitions import metric_label
from reemploy.formatting import plotly_text
from reemploy.labels import (COVARIATE_LABELS, CURVE_ORIGIN_TEXT, DARK_EMPLOYER_COLORS,
                             DISTRICT_METRICS, EMPLOYER_COLORS, EMPLOYER_LABELS, EMPLOYER_ORDER,
                             ESTIMATE_LABELS, FLOW_COLUMN_TITLES, FONT_FAMILY, PROGRAM_COLORS,
                             district_metric_label, level_label, program_color, program_label)
from reemploy.figures.common import UNRELIABLE_BELOW
from reemploy.figures.compare import curves_cross
from reemploy.figures.trends import COHORT_MEASURES
from reemploy.figures.who_benefits import CHARACTERISTIC_LEVELS
from reemploy.flows import SMALL_FLOWS

# The house template as plotly's default rather than `template=` on every figure: passing it
# validates and deep-copies the whole template each time (~15 ms a chart, half the time a page
# rerun spends in Plotly); the default is attached unvalidated when the figure is serialised.
# Same JSON either way.
pio.templates.default = "plotly_white"


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


def placement_trend_chart(df: pd.DataFrame, min_cell: int) -> go.Figure:
    """Placement within 180 days of exit by quarterly enrollment cohort (Overview): the
    180-day case of cohort_outcome_chart."""
    return cohort_outcome_chart(df, min_cell, "placement_rate_180d")


# --------------------------------------------------------------------------- Compare programmes

# Days at which the "number at risk" row under the curves is printed and the axis is ticked:
# finer within two years, yearly beyond.
CURVE_DAYS_SHORT = (0, 90, 180, 365, 545, 730)
CURVE_DAYS_LONG = (0, 180, 365, 730, 1095, 1460, 1825)
DIFFERENCE_COLOR = "#333333"
# The house legend sits a fixed share of the plot height below it, which meets the x-axis title
# on short charts; anchored to the bottom edge of the figure it stays clear of it.
_LEGEND_AT_BOTTOM = {"yref": "container", "y": 0.0, "yanchor": "bottom"}


def _p_value_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _not_drawn_note(programs, min_cell: int, what: str = "people") -> str:
    if not programs:
        return ""
    names = ", ".join(program_label(p) for p in programs)
    return f" Not drawn: {names} (fewer than {min_cell} {what}, suppressed)."


def _at_risk_on(part: pd.DataFrame, day: int) -> int:
    # Everyone whose time is >= day is at risk on it: the at_risk of the first row on or after day.
    later = part.loc[part["day"] >= day, "at_risk"]
    return int(later.iloc[0]) if not later.empty else 0


def reemployment_curve_chart(curves: pd.DataFrame, logrank: pd.DataFrame, min_cell: int,
                             origin: str = "enrollment", max_days: int | None = None) -> go.Figure:
    """Cumulative share re-employed (1 - Kaplan-Meier) per programme with 95% bands, stopped
    where fewer than `min_cell` remain at risk, and a row of numbers at risk underneath.

    `max_days` limits the days drawn (None: all), so that the first months, where long courses
    hold people back (lock-in), are wide enough to see.
    """
    since = CURVE_ORIGIN_TEXT[origin]
    title = f"Share re-employed by days since {since}"
    if max_days is not None:
        title += f", first {max_days:,} days"
        curves = curves[curves["day"] <= max_days]
    if curves.empty or curves["reemployed_suppressed"].all():
        return empty_chart(title, f"No programme has {min_cell} or more people to follow.")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.82, 0.18],
                        vertical_spacing=0.04)
    hidden, labels, last_day = [], [], 0
    for program, part in curves.groupby("program_type", sort=False):
        part = part.sort_values("day")
        drawn = part[~part["reemployed_suppressed"].astype(bool)]
        if drawn.empty:
            hidden.append(program)
            continue
        color = program_color(program)
        total = int(part["at_risk"].iloc[0])
        label = f"{program_label(program)} (n = {total:,})"
        labels.append((program, label))
        # Everyone starts not yet re-employed on day 0; the first row may be a later day, or
        # day 0 itself with the jobs found during the course (origin "exit").
        line = pd.concat(
            [pd.DataFrame({"day": [0], "reemployed": [0.0], "reemployed_low": [0.0],
                           "reemployed_high": [0.0], "at_risk": [total]}),
             drawn[["day", "reemployed", "reemployed_low", "reemployed_high", "at_risk"]]],
            ignore_index=True,
        )
        last_day = max(last_day, int(line["day"].iloc[-1]))
        band = {"x": line["day"], "line": {"width": 0, "shape": "hv"}, "mode": "lines",
                "hoverinfo": "skip", "showlegend": False, "legendgroup": program}
        fig.add_trace(go.Scatter(y=line["reemployed_low"], name=f"{program} band low", **band),
                      row=1, col=1)
        fig.add_trace(go.Scatter(y=line["reemployed_high"], name=f"{program} band high",
                                 fill="tonexty", fillcolor=hex_to_rgba(color, 0.18), **band),
                      row=1, col=1)
        fig.add_trace(
            go.Scatter(
                x=line["day"],
                y=line["reemployed"],
                mode="lines",
                name=label,
                legendgroup=program,
                line={"color": color, "width": 2.5, "shape": "hv"},
                customdata=line[["at_risk", "reemployed_low", "reemployed_high"]].to_numpy(),
                hovertemplate=("%{y:.1%} (95% CI %{customdata[1]:.1%}–%{customdata[2]:.1%})"
                               " · %{customdata[0]:,} at risk<extra>"
                               + program_label(program) + "</extra>"),
            ),
            row=1, col=1,
        )
    risk_days = [d for d in (CURVE_DAYS_SHORT if last_day <= 730 else CURVE_DAYS_LONG)
                 if d <= last_day]
    for program, _ in labels:
        part = curves[curves["program_type"] == program].sort_values("day")
        counts = [_at_risk_on(part, d) for d in risk_days]
        fig.add_trace(
            go.Scatter(
                x=risk_days,
                y=[program_label(program)] * len(risk_days),
                mode="text",
                text=[f"{c:,}" if c >= min_cell else f"<{min_cell}" for c in counts],
                # The first and last numbers sit on the edges: print them inwards.
                textposition=["middle right" if d == risk_days[0] else
                              "middle left" if d == risk_days[-1] else "middle center"
                              for d in risk_days],
                textfont={"color": program_color(program), "size": 11},
                showlegend=False,
                hoverinfo="skip",
                name=f"{program} at risk",
            ),
            row=2, col=1,
        )
    test = logrank.iloc[0] if not logrank.empty else None
    if test is None or bool(test["logrank_chi2_suppressed"]) or pd.isna(test["logrank_chi2"]):
        test_text = "Log-rank test skills vs mindset: not shown (too few people)."
    else:
        test_text = (f"Log-rank test skills vs mindset: χ² = {test['logrank_chi2']:,.1f} (1 df), "
                     f"{_p_value_text(test['logrank_p_value'])}.")
        if curves_cross(curves):
            test_text += ("<br>The curves cross, so the test says only that they differ, not "
                          "which is ahead: see days without a job below.")
    subtitle = (f"{test_text}<br>1 − Kaplan-Meier, 95% bands; not-yet-placed people count until as_of."
                f"<br>Each curve stops where fewer than {min_cell} people remain at risk."
                + _not_drawn_note(hidden, min_cell))
    style_figure(fig, title, subtitle, height=580)
    fig.update_layout(margin={"t": 80 + 16 * (subtitle.count("<br>") + 1)}, hovermode="x unified")
    fig.update_yaxes(title="Re-employed (cumulative share)", tickformat=".0%", rangemode="tozero",
                     row=1, col=1)
    # Reversed (first programme on top) with half a row of room so no number is cut.
    fig.update_yaxes(title="At risk", range=[len(labels) - 0.3, -0.7], showgrid=False,
                     row=2, col=1, tickfont={"size": 11})
    fig.update_xaxes(range=[-0.01 * last_day, last_day * 1.02], tickvals=risk_days,
                     showgrid=True)
    fig.update_xaxes(title=f"Days since {since}", row=2, col=1)
    return fig


def placement_horizon_chart(rates: pd.DataFrame, min_cell: int) -> go.Figure:
    """Placement within 90, 180 and 365 days of exit per programme: dots with Wilson 95% error
    bars, grouped by horizon; suppressed cells are not drawn."""
    title = "Placed within 90, 180 and 365 days of leaving"
    shown = rates[~rates["placement_rate_suppressed"].astype(bool)] if not rates.empty else rates
    if shown.empty:
        return empty_chart(title, f"No programme has {min_cell} or more people followed after exit.")
    horizons = sorted(rates["horizon_days"].unique())
    fig = go.Figure()
    for program, part in shown.groupby("program_type", sort=False):
        color = program_color(program)
        fig.add_trace(
            go.Scatter(
                x=[f"{h} days" for h in part["horizon_days"]],
                y=part["placement_rate"],
                mode="markers",
                name=program_label(program),
                offsetgroup=program,
                marker={"color": color, "size": 11},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": part["placement_rate_high"] - part["placement_rate"],
                    "arrayminus": part["placement_rate"] - part["placement_rate_low"],
                    "color": color,
                    "thickness": 1.5,
                    "width": 4,
                },
                customdata=part[["placed_count", "placement_rate_n", "placement_rate_low",
                                 "placement_rate_high"]].to_numpy(),
                hovertemplate=("%{y:.1%} placed within %{x} (95% CI %{customdata[2]:.1%}–"
                               "%{customdata[3]:.1%})<br>%{customdata[0]:,} of %{customdata[1]:,}"
                               " followed<extra>%{fullData.name}</extra>"),
            )
        )
    first = rates[rates["horizon_days"] == horizons[0]]
    missing = int(rates["placement_rate_suppressed"].astype(bool).sum())
    note = (f" {missing} cell(s) not drawn: fewer than {min_cell} people followed (suppressed)."
            if missing else "")
    style_figure(
        fig,
        title,
        f"Share with a first job by exit + h days, 95% Wilson intervals; n = "
        f"{int(first['placement_rate_n'].sum()):,} followed {horizons[0]} days, fewer for longer"
        f" horizons.{note}",
        height=420,
    )
    fig.update_layout(scattermode="group", scattergap=0.55, legend=_LEGEND_AT_BOTTOM)
    fig.update_xaxes(title="Time after leaving the programme",
                     categoryorder="array", categoryarray=[f"{h} days" for h in horizons])
    fig.update_yaxes(title="Placed (share of people followed)", tickformat=".0%",
                     rangemode="tozero")
    return fig


def _difference_chart(df: pd.DataFrame, labels: list[str], title: str, subtitle: str,
                      hover_rows: list[str], min_cell: int) -> go.Figure:
    shown = ~df["difference_suppressed"].astype(bool) & df["difference"].notna()
    if not shown.any():
        return empty_chart(title, f"Needs skills and mindset each with {min_cell} or more people.")
    part = df[shown]
    y = [label for label, keep in zip(labels, shown) if keep]
    hover = [text for text, keep in zip(hover_rows, shown) if keep]
    points = part["difference"] * 100
    fig = go.Figure(
        go.Scatter(
            x=points,
            y=y,
            mode="markers+text",
            marker={"color": DIFFERENCE_COLOR, "size": 11, "symbol": "diamond"},
            text=[f"{d * 100:+.1f} pp [{lo * 100:+.1f}, {hi * 100:+.1f}]" for d, lo, hi in
                  zip(part["difference"], part["difference_low"], part["difference_high"])],
            textposition="top center",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (part["difference_high"] - part["difference"]) * 100,
                "arrayminus": (part["difference"] - part["difference_low"]) * 100,
                "color": DIFFERENCE_COLOR,
                "thickness": 1.5,
                "width": 5,
            },
            hovertext=hover,
            hoverinfo="text",
            showlegend=False,
        )
    )
    hidden = int((~shown).sum())
    if hidden:
        subtitle += f" {hidden} row(s) suppressed (fewer than {min_cell} people)."
    style_figure(fig, title, subtitle, height=150 + 80 * len(y))
    fig.add_vline(x=0, line={"color": "#999999", "width": 1})
    low = min(0.0, float((part["difference_low"] * 100).min()))
    high = max(0.0, float((part["difference_high"] * 100).max()))
    pad = max(1.0, (high - low) * 0.15)
    fig.update_xaxes(title="Skills minus mindset (percentage points)", ticksuffix=" pp",
                     range=[low - pad, high + pad], zeroline=False)
    # Reversed, with room above the first row for its text label.
    fig.update_yaxes(range=[len(y) - 0.5, -0.9], categoryorder="array", categoryarray=y)
    fig.update_layout(margin={"l": 170})
    return fig


def _difference_hover(row) -> str:
    return (f"Skills {row['skills_rate']:.1%} (n = {int(row['skills_n']):,}) − mindset "
            f"{row['mindset_rate']:.1%} (n = {int(row['mindset_n']):,})")


def _rates_text(row) -> str:
    if row["difference_suppressed"]:
        return "suppressed"
    return f"{row['skills_rate']:.1%} vs {row['mindset_rate']:.1%}"


def placement_difference_chart(differences: pd.DataFrame, min_cell: int) -> go.Figure:
    """Skills minus mindset placement rate within each horizon after exit, with Newcombe 95%
    intervals; suppressed rows are not drawn."""
    labels = [f"within {int(r['horizon_days'])} days<br>{_rates_text(r)}"
              for r in differences.to_dict("records")]
    hover = [_difference_hover(r) if not r["difference_suppressed"] else ""
             for r in differences.to_dict("records")]
    return _difference_chart(
        differences, labels, "Skills minus mindset, by time after leaving",
        "Difference in placement rates (labels: skills vs mindset), 95% Newcombe intervals;"
        " right of 0: skills higher.",
        hover, min_cell,
    )


def adjusted_difference_chart(adjusted: pd.DataFrame, min_cell: int) -> go.Figure:
    """Raw and adjusted (direct standardisation) skills minus mindset placement within 180 days
    of exit, with 95% intervals; says it is an adjusted difference, not a causal effect."""
    # An estimate the data cannot support (a model that does not converge) is named, not drawn.
    failed = adjusted["reason"].notna() if "reason" in adjusted else pd.Series(False, adjusted.index)
    failed_text = "".join(f"{ESTIMATE_LABELS.get(r['estimate'], r['estimate'])}: not estimated "
                          f"({r['reason']}).<br>" for r in adjusted[failed].to_dict("records"))
    adjusted = adjusted[~failed]
    labels = [f"{ESTIMATE_LABELS.get(r['estimate'], r['estimate'])}<br>{_rates_text(r)}"
              for r in adjusted.to_dict("records")]
    hover = [_difference_hover(r) if not r["difference_suppressed"] else ""
             for r in adjusted.to_dict("records")]
    excluded = adjusted.loc[adjusted["estimate"] == "adjusted", "excluded_share"]
    excluded_text = (f"{excluded.iloc[0]:.1%} of people are in strata only one programme has "
                     f"(no common support) and are left out of the standardised row.<br>"
                     if not excluded.empty and pd.notna(excluded.iloc[0]) else "")
    return _difference_chart(
        adjusted, labels, "Skills minus mindset, placed within 180 days: raw and adjusted",
        "Adjusted differences, not causal effects: each compares the same mix of age × gender ×"
        " education × prior sector × district.<br>" + excluded_text + failed_text
        + "95% intervals (raw: Newcombe; standardised: bootstrap over enrollees; models: "
        "influence function).",
        hover, min_cell,
    )


def wage_chart(profile: pd.DataFrame, min_cell: int) -> go.Figure:
    """Monthly wage at the first job per programme as boxes drawn from quantiles computed in
    SQL (box 25th-75th percentile, line median, whiskers 10th and 90th)."""
    title = "Monthly wage at the first job"
    shown = profile[~profile["monthly_wage_suppressed"].astype(bool)]
    if shown.empty:
        return empty_chart(title, f"No programme has {min_cell} or more first jobs with a wage.")
    fig = go.Figure()
    for row in shown.to_dict("records"):
        program = row["program_type"]
        color = program_color(program)
        label = (f"{program_label(program)}<br>median {row['monthly_wage_p50']:,.0f} yuan"
                 f"<br>n = {int(row['monthly_wage_n']):,}")
        fig.add_trace(
            go.Box(
                x=[label],
                q1=[row["monthly_wage_p25"]],
                median=[row["monthly_wage_p50"]],
                q3=[row["monthly_wage_p75"]],
                lowerfence=[row["monthly_wage_p10"]],
                upperfence=[row["monthly_wage_p90"]],
                name=program_label(program),
                marker={"color": color},
                line={"color": color},
                fillcolor=hex_to_rgba(color, 0.3),
                boxpoints=False,
                hoverinfo="skip",
                showlegend=False,
            )
        )
    hidden = [p for p in profile["program_type"] if p not in set(shown["program_type"])]
    style_figure(
        fig,
        title,
        "Box: 25th–75th percentile; line: median; whiskers: 10th and 90th percentiles (not min/max)."
        + _not_drawn_note(hidden, min_cell, "first jobs with a wage"),
        height=420,
    )
    fig.update_yaxes(title="Monthly wage (yuan)", rangemode="tozero", tickformat=",")
    fig.update_xaxes(title=None)
    return fig


def employer_mix_chart(mix: pd.DataFrame, min_cell: int) -> go.Figure:
    """Employer type of the first job per programme as 100% stacked horizontal bars; programmes
    with fewer than `min_cell` first jobs are not drawn."""
    title = "Who hired them: employer type of the first job"
    shown = mix[~mix["employer_share_suppressed"].astype(bool)] if not mix.empty else mix
    if shown.empty:
        return empty_chart(title, f"No programme has {min_cell} or more first jobs.")
    programs = list(dict.fromkeys(shown["program_type"]))
    totals = shown.groupby("program_type")["employer_share_n"].first()
    y = [f"{program_label(p)}<br>n = {int(totals[p]):,}" for p in programs]
    fig = go.Figure()
    for employer in EMPLOYER_ORDER:
        part = shown[shown["employer_type"] == employer].set_index("program_type").reindex(programs)
        fig.add_trace(
            go.Bar(
                x=part["employer_share"],
                y=y,
                orientation="h",
                name=EMPLOYER_LABELS[employer],
                marker={"color": EMPLOYER_COLORS[employer]},
                text=[f"{s:.0%}" if s >= 0.04 else "" for s in part["employer_share"]],
                textposition="inside",
                insidetextanchor="middle",
                textfont={"color": "white" if employer in DARK_EMPLOYER_COLORS else "#222222"},
                customdata=part[["placement_count", "employer_share_n", "employer_share_low",
                                 "employer_share_high"]].to_numpy(),
                hovertemplate=(EMPLOYER_LABELS[employer] + ": %{x:.1%} (95% CI %{customdata[2]:.1%}"
                               "–%{customdata[3]:.1%})<br>%{customdata[0]:,} of %{customdata[1]:,}"
                               " first jobs<extra></extra>"),
            )
        )
    hidden = [p for p in dict.fromkeys(mix["program_type"]) if p not in programs]
    style_figure(
        fig,
        title,
        "Share of first jobs after enrollment, each bar 100%; n = first jobs started by as_of."
        + _not_drawn_note(hidden, min_cell, "first jobs"),
        height=170 + 62 * len(programs),
    )
    fig.update_layout(barmode="stack", bargap=0.35, margin={"l": 150},
                      legend={**_LEGEND_AT_BOTTOM, "traceorder": "normal"})
    fig.update_xaxes(title="Share of first jobs", tickformat=".0%", range=[0, 1])
    fig.update_yaxes(autorange="reversed")
    return fig


def balance_chart(balance: pd.DataFrame, min_cell: int) -> go.Figure:
    """Standardized differences (skills - mindset) of each covariate level's share before
    adjustment, with the conventional |d| = 0.1 marks; coloured by the programme where the
    level is more common."""
    title = "Who enrolled: skills vs mindset before adjustment"
    shown = (balance[~balance["std_diff_raw_suppressed"].astype(bool)]
             if not balance.empty else balance)
    if shown.empty:
        return empty_chart(title, f"Needs skills and mindset each with {min_cell} or more people.")
    y = [f"{COVARIATE_LABELS.get(c, c)}: {plotly_text(level)}" for c, level in
         zip(shown["covariate"], shown["level"])]
    colors = [program_color("skills") if d > 0 else program_color("mindset")
              for d in shown["std_diff_raw"]]
    fig = go.Figure(
        go.Scatter(
            x=shown["std_diff_raw"],
            y=y,
            mode="markers",
            marker={"color": colors, "size": 9},
            customdata=shown[["share_skills", "share_mindset"]].to_numpy(),
            hovertemplate=("%{y}: skills %{customdata[0]:.1%}, mindset %{customdata[1]:.1%}"
                           "<br>standardized difference %{x:+.2f}<extra></extra>"),
            name="before adjustment",
            showlegend=False,
        )
    )
    if "std_diff_weighted" in shown and shown["std_diff_weighted"].notna().any():
        fig.add_trace(go.Scatter(
            x=shown["std_diff_weighted"],
            y=y,
            mode="markers",
            marker={"color": "#333333", "size": 7, "symbol": "x-thin", "line": {"width": 2}},
            hovertemplate="%{y}: after propensity weighting %{x:+.2f}<extra></extra>",
            name="after propensity weighting",
            showlegend=True,
        ))
        fig.update_layout(legend={**_LEGEND_AT_BOTTOM})
    for x, dash in ((-0.1, "dash"), (0.0, "solid"), (0.1, "dash")):
        fig.add_vline(x=x, line={"color": "#999999", "width": 1, "dash": dash})
    n = int(shown["std_diff_raw_n"].iloc[0])
    style_figure(
        fig,
        title,
        f"Standardized difference of each group's share; blue: more common in skills, orange: in "
        f"mindset; beyond ±0.1 (dashed) is a notable imbalance.<br>n = {n:,} in the smaller "
        "programme, people followed 180 days. After standardisation both carry the pooled shares; "
        "× marks the difference left after propensity weighting.",
        height=150 + 19 * len(y),
    )
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=y,
                     tickfont={"size": 11})
    reach = max(0.15, float(shown["std_diff_raw"].abs().max()) * 1.1)
    fig.update_xaxes(title="Standardized difference, skills − mindset", range=[-reach, reach])
    fig.update_layout(margin={"l": 210, "t": 100})
    return fig


# --------------------------------------------------------------------------- Trends, Who benefits

INCOMPLETE_SHADE = "rgba(127,127,127,0.12)"
HOLLOW_NOTE_COLOR = "#555555"


def _tick_label(characteristic: str, level: str) -> str:
    # two-word levels on two lines, so narrow panels need not tilt their labels
    return level_label(characteristic, level).replace(" ", "<br>")


def _program_legend_entry(fig: go.Figure, program: str, mode: str = "lines+markers") -> None:
    """A legend-only entry in the programme's colour, filled: the legend otherwise copies the
    first point's marker, which may be hollow."""
    color = program_color(program)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode=mode, name=program_label(program),
                             legendgroup=program, hoverinfo="skip", line={"color": color, "width": 2},
                             marker={"color": color, "size": 8, "line": {"color": color, "width": 2}}))


def _hollow_legend_entry(fig: go.Figure, text: str, **trace_options) -> None:
    """A legend-only entry explaining what hollow markers mean."""
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=text, hoverinfo="skip",
                             marker={"color": "white", "size": 8,
                                     "line": {"color": HOLLOW_NOTE_COLOR, "width": 2}},
                             **trace_options))


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
        _program_legend_entry(fig, program)
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
        _hollow_legend_entry(fig, "Hollow: not yet fully observed (partial, not a fall)")
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
        _program_legend_entry(fig, program)
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
        _hollow_legend_entry(fig, "Hollow: quarter still running at as_of (partial count)")
        subtitle += " The last quarter was still running at as_of."
    style_figure(fig, title, subtitle, height=440)
    fig.update_yaxes(title="Enrollments (people)", rangemode="tozero", tickformat=",")
    _quarter_axis(fig)
    return fig


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
        _program_legend_entry(fig, program, mode="markers")
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
        _hollow_legend_entry(fig, f"Hollow: fewer than {UNRELIABLE_BELOW} people (unreliable)")
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


# --------------------------------------------------------------------------- Districts and sectors

SUPPRESSED_COLOR = "#BDBDBD"
NO_VALUE_COLOR = "#DCDCDC"
NO_DATA_COLOR = "#F2F2F2"
# Sequential scales start at this tint of the programme colour: pure white would read as "no data".
SEQUENTIAL_FLOOR = 0.12
SELECTED_LINE_COLOR = "#111111"
# Diverging through white at 0, in the programme colours: orange where mindset placed more,
# blue where skills did.
GAP_COLORSCALE = [[0.0, PROGRAM_COLORS["mindset"]], [0.5, "#FFFFFF"], [1.0, PROGRAM_COLORS["skills"]]]


def _value_text(value, unit: str) -> str:
    if pd.isna(value):
        return "–"
    return {
        "pp": f"{value:+.1f} pp",
        "percent": f"{value:.1f}%",
        "days": f"{value:,.0f} days",
        "yuan": f"{value:,.0f} yuan",
        "people": f"{value:,.0f}",
    }[unit]


def _district_values(df: pd.DataFrame, metric: str, program: str) -> pd.DataFrame:
    """One row per district: the metric in display units (percent, pp...), its interval, n,
    whether it is suppressed and a hover text."""
    columns = ["district", "value", "low", "high", "n", "suppressed", "hover"]
    unit = DISTRICT_METRICS[metric][1]
    if metric == "gap":
        rows = df
        scale, n_col = 100.0, "gap_n"
    else:
        rows = df[df["program_type"] == program]
        scale = 100.0 if unit == "percent" else 1.0
        n_col = "enrolled_count" if metric == "enrolled_count" else f"{metric}_n"
    if rows.empty:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame({"district": rows["district"].astype(str).to_numpy()})
    out["value"] = rows[metric].astype("float64").to_numpy() * scale
    for end in ("low", "high"):
        column = f"{metric}_{end}"
        out[end] = rows[column].astype("float64").to_numpy() * scale if column in rows else float("nan")
    out["n"] = rows[n_col].fillna(0).astype("int64").to_numpy()
    flag = f"{metric}_suppressed"
    out["suppressed"] = rows[flag].astype(bool).to_numpy() if flag in rows else False
    out["hover"] = [_district_hover(r, metric, unit, program) for r in rows.to_dict("records")]
    return out


def _district_hover(row: dict, metric: str, unit: str, program: str) -> str:
    name = f"<b>{plotly_text(row['district'])}</b>"
    if metric == "gap":
        if row["gap_suppressed"]:
            return (f"{name}<br>gap suppressed: skills n = {int(row['skills_placement_rate_180d_n']):,},"
                    f" mindset n = {int(row['mindset_placement_rate_180d_n']):,} followed")
        sides = " − ".join(
            f"{p} {row[f'{p}_placement_rate_180d']:.1%} (n = {int(row[f'{p}_placement_rate_180d_n']):,})"
            if not row[f"{p}_placement_rate_180d_suppressed"] else f"{p} suppressed"
            for p in ("skills", "mindset"))
        return (f"{name}<br>{row['gap'] * 100:+.1f} pp (95% CI {row['gap_low'] * 100:+.1f} to "
                f"{row['gap_high'] * 100:+.1f})<br>{sides}")
    n_col = "enrolled_count" if metric == "enrolled_count" else f"{metric}_n"
    n_text = f"n = {int(row[n_col]):,}"
    if row.get(f"{metric}_suppressed", False):
        return f"{name}<br>{program_label(program)}: suppressed ({n_text})"
    value = row[metric] * (100 if unit == "percent" else 1)
    if pd.isna(value):
        reason = "median not reached yet" if metric == "median_days_to_placement" else "no value"
        return f"{name}<br>{program_label(program)}: {reason} ({n_text})"
    text = _value_text(value, unit)
    if f"{metric}_low" in row and pd.notna(row[f"{metric}_low"]):
        text += f" (95% CI {row[f'{metric}_low'] * 100:.1f}–{row[f'{metric}_high'] * 100:.1f}%)"
    return f"{name}<br>{program_label(program)}: {text}<br>{n_text}"


def _district_title(metric: str, program: str) -> str:
    if metric == "gap":
        return "Skills minus mindset training by district: placed within 180 days of exit"
    return f"{district_metric_label(metric)} by district: {program_label(program)}"


def _district_subtitle(values: pd.DataFrame, metric: str, min_cell: int, unlisted: list[str]) -> str:
    n = int(values["n"].sum()) if not values.empty else 0
    if metric == "gap":
        text = ("Blue: skills training placed more; orange: mindset training did (95% Newcombe "
                f"intervals in the hover).<br>n = {n:,}: the smaller of the two groups followed, "
                "summed over districts; a raw difference, not an effect.")
    elif DISTRICT_METRICS[metric][1] == "percent":
        text = f"Share placed, 95% Wilson intervals in the hover; n = {n:,} people followed 180 days."
    elif metric == "median_days_to_placement":
        text = (f"Kaplan-Meier median: people still searching count until as_of; n = {n:,} "
                "enrolled.")
    elif metric == "median_monthly_wage":
        text = f"n = {n:,} first jobs with a wage."
    else:
        text = f"n = {n:,} enrolled."
    hidden = sorted(values.loc[values["suppressed"], "district"])
    if hidden:
        text += "<br>" + _listed(f"Grey, suppressed (fewer than {min_cell}, or would give such a "
                                 "district away):", hidden)
    if unlisted:
        text += "<br>" + _listed("No enrollments under these filters:", sorted(unlisted))
    return text.strip()


def _listed(lead: str, names: list[str], per_line: int = 8) -> str:
    """`lead` and the names, `per_line` to a line, so a long list wraps instead of running off."""
    # Names come from the data: escaped, so a name cannot add a link or markup to the chart.
    names = [plotly_text(name) for name in names]
    lines = [", ".join(names[i:i + per_line]) for i in range(0, len(names), per_line)]
    return f"{lead} " + ",<br>".join(lines) + "."


def _ring_centroid(ring: list) -> tuple[float, float, float]:
    """Area and centroid (lon, lat) of a closed ring by the shoelace formula."""
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if area == 0:
        xs, ys = zip(*ring)
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return abs(area) / 2, cx / (3 * area), cy / (3 * area)


def _outer_rings(geometry: dict) -> list[list[tuple[float, float]]]:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [[tuple(point[:2]) for point in polygon[0]] for polygon in polygons]


def _feature_centroid(geometry: dict) -> tuple[float, float]:
    """Label point of a Polygon or MultiPolygon: the centroid of its largest outer ring."""
    _, lon, lat = max((_ring_centroid(ring) for ring in _outer_rings(geometry)), key=lambda c: c[0])
    return lon, lat


def _mix(low: str, high: str, t: float) -> tuple[float, float, float]:
    a = [int(low.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    b = [int(high.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    return tuple(x + (y - x) * t for x, y in zip(a, b))


def _hex(rgb) -> str:
    return "#" + "".join(f"{round(c):02X}" for c in rgb)


def _fill_colors(shown: pd.DataFrame, metric: str, program: str) -> dict[str, tuple]:
    """The fill each coloured district gets from its colour scale (for a legible label on it)."""
    values = shown["value"].astype(float)
    if values.empty:
        return {}
    if metric == "gap":
        reach = float(values.abs().max()) or 1.0
        colors = [_mix("#FFFFFF", PROGRAM_COLORS["skills" if v >= 0 else "mindset"], abs(v) / reach)
                  for v in values]
    else:
        low, span = float(values.min()), float(values.max() - values.min()) or 1.0
        colors = [_mix("#FFFFFF", program_color(program),
                       SEQUENTIAL_FLOOR + (1 - SEQUENTIAL_FLOOR) * (v - low) / span) for v in values]
    return dict(zip(shown["district"], colors))


def _text_color_on(fill) -> str:
    """Dark text on light fills, white on dark ones (WCAG relative luminance)."""
    if isinstance(fill, str):
        fill = _mix(fill, fill, 0.0)
    channels = [c / 255 for c in fill]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#FFFFFF" if luminance < 0.25 else "#222222"


def _grey_choropleth(geojson: dict, districts: list[str], color: str, name: str,
                     hover: list[str]) -> go.Choropleth:
    return go.Choropleth(
        geojson=geojson,
        featureidkey="properties.district",
        locations=districts,
        z=[0] * len(districts),
        colorscale=[[0, color], [1, color]],
        showscale=False,
        marker={"line": {"color": "white", "width": 1}},
        name=name,
        showlegend=True,
        customdata=[[d] for d in districts],
        hovertext=hover,
        hoverinfo="text",
    )


def district_map_chart(df: pd.DataFrame, geojson: dict, metric: str = "gap", program: str = "skills",
                       min_cell: int = 10, selected=()) -> go.Figure:
    """A choropleth of the districts drawn from the extract's own GeoJSON (features keyed by
    properties.district; no map tiles or CDN shapes), coloured by `metric` (DISTRICT_METRICS) for
    `program`, or by the skills-minus-mindset gap on a scale diverging at 0. Suppressed districts
    are grey and listed; `selected` districts are outlined."""
    title = _district_title(metric, program)
    values = _district_values(df, metric, program)
    unit = DISTRICT_METRICS[metric][1]
    selected = set(selected)
    features = geojson.get("features", [])
    names = [f["properties"]["district"] for f in features]
    known = set(values["district"])
    values = values[values["district"].isin(names)]
    unlisted = [d for d in names if d not in known]
    shown = values[values["value"].notna() & ~values["suppressed"]]
    no_value = "not reached" if metric == "median_days_to_placement" else "no value"
    labels = {row["district"]: "suppressed" if row["suppressed"] else
              no_value if pd.isna(row["value"]) else _value_text(row["value"], unit)
              for row in values.to_dict("records")}
    centroids = [_feature_centroid(f["geometry"]) for f in features]
    # The labels must be the first trace: plotly.js decides whether to fetch its world topojson
    # from cdn.plot.ly by looking at the first geo trace only, and a choropleth there (it has a
    # locationmode) makes it fetch, so offline the map stays blank, in the browser and in
    # kaleido alike. A text trace placed by lon/lat has no locationmode.
    fill = _fill_colors(shown, metric, program)
    fig = go.Figure(go.Scattergeo(
        lon=[c[0] for c in centroids],
        lat=[c[1] for c in centroids],
        text=[f"<b>{plotly_text(d)}</b><br>{labels.get(d, 'no enrollments')}" for d in names],
        mode="text",
        textfont={"size": 12, "color": [_text_color_on(fill.get(d, NO_DATA_COLOR)) for d in names]},
        hoverinfo="skip",
        showlegend=False,
    ))
    if not shown.empty:
        scale = {"colorscale": GAP_COLORSCALE, "zmid": 0.0} if metric == "gap" else {
            "colorscale": [[0.0, _hex(_mix("#FFFFFF", program_color(program), SEQUENTIAL_FLOOR))],
                           [1.0, program_color(program)]]}
        if metric == "gap":
            reach = float(shown["value"].abs().max()) or 1.0
            scale.update(zmin=-reach, zmax=reach)
        suffix = {"pp": " pp", "percent": "%", "days": " d", "yuan": "", "people": ""}[unit]
        districts = shown["district"].tolist()
        fig.add_trace(go.Choropleth(
            geojson=geojson,
            featureidkey="properties.district",
            locations=districts,
            z=shown["value"],
            **scale,
            marker={"line": {"color": "white", "width": 1}},
            colorbar={"title": {"text": {"pp": "pp", "percent": "%", "days": "days", "yuan": "yuan",
                                         "people": "people"}[unit]},
                      "ticksuffix": suffix, "tickformat": "+.0f" if metric == "gap" else ",.0f",
                      "len": 0.75, "thickness": 14},
            customdata=[[d] for d in districts],
            hovertext=shown["hover"],
            hoverinfo="text",
            name=district_metric_label(metric),
            showlegend=False,
        ))
    hidden = values[values["suppressed"]]
    if not hidden.empty:
        fig.add_trace(_grey_choropleth(
            geojson, hidden["district"].tolist(), SUPPRESSED_COLOR,
            f"Suppressed (fewer than {min_cell} people, or would give such a district away)",
            hidden["hover"].tolist()))
    blank = values[values["value"].isna() & ~values["suppressed"]]
    if not blank.empty:
        fig.add_trace(_grey_choropleth(
            geojson, blank["district"].tolist(), NO_VALUE_COLOR,
            "Median not reached yet" if metric == "median_days_to_placement" else "No value",
            blank["hover"].tolist()))
    if unlisted:
        fig.add_trace(_grey_choropleth(
            geojson, unlisted, NO_DATA_COLOR, "No enrollments under these filters",
            [f"<b>{plotly_text(d)}</b><br>no enrollments under these filters" for d in unlisted]))
    outlines = [ring for f in features if f["properties"]["district"] in selected
                for ring in _outer_rings(f["geometry"])]
    if outlines:
        # On top of every district, so neighbours' borders cannot cover the outline.
        fig.add_trace(go.Scattergeo(
            lon=[x for ring in outlines for x in [p[0] for p in ring] + [None]],
            lat=[y for ring in outlines for y in [p[1] for p in ring] + [None]],
            mode="lines",
            line={"color": SELECTED_LINE_COLOR, "width": 3},
            hoverinfo="skip",
            name="Selected (filters the dashboard)",
            showlegend=True,
        ))
    fig.update_geos(fitbounds="geojson", visible=False)
    subtitle = _district_subtitle(values, metric, min_cell, unlisted)
    top = 75 + 16 * (subtitle.count("<br>") + 1)
    style_figure(fig, title, subtitle, height=500 + top)
    fig.update_layout(margin={"l": 10, "r": 10, "t": top, "b": 70},
                      legend={"y": -0.02, "yanchor": "top"}, dragmode=False)
    return fig


def district_ranked_chart(df: pd.DataFrame, metric: str = "gap", program: str = "skills",
                          min_cell: int = 10, selected=()) -> go.Figure:
    """The district map's stand-in when the extract has no GeoJSON: districts ranked by `metric`
    as horizontal bars, with 95% intervals for rates and the gap; suppressed districts listed."""
    title = _district_title(metric, program)
    values = _district_values(df, metric, program)
    unit = DISTRICT_METRICS[metric][1]
    shown = values[values["value"].notna() & ~values["suppressed"]].sort_values("value", ascending=False)
    if shown.empty:
        return empty_chart(title, f"No district can be shown: each has fewer than {min_cell} people "
                                  "for this figure, or would give such a district away.")
    selected = set(shown["district"]) & set(selected)
    if metric == "gap":
        colors = [PROGRAM_COLORS["skills"] if v >= 0 else PROGRAM_COLORS["mindset"] for v in shown["value"]]
    else:
        colors = program_color(program)
    has_interval = shown["low"].notna().any()
    fig = go.Figure(go.Bar(
        x=shown["value"],
        y=shown["district"],
        orientation="h",
        marker={"color": colors,
                "line": {"color": SELECTED_LINE_COLOR,
                         "width": [3 if d in selected else 0 for d in shown["district"]]}},
        error_x={"type": "data", "symmetric": False, "array": shown["high"] - shown["value"],
                 "arrayminus": shown["value"] - shown["low"], "color": "#444444", "thickness": 1.2}
        if has_interval else None,
        text=[_value_text(v, unit) for v in shown["value"]],
        textposition="outside" if not has_interval else "none",
        customdata=[[d] for d in shown["district"]],
        hovertext=shown["hover"],
        hoverinfo="text",
        showlegend=False,
    ))
    subtitle = _district_subtitle(values, metric, min_cell, [])
    top = 75 + 16 * (subtitle.count("<br>") + 1)
    style_figure(fig, title, subtitle, height=top + 120 + 32 * len(shown))
    axis = {"pp": "Skills minus mindset (percentage points)", "percent": "Placed within 180 days (%)",
            "days": "Median days to first job", "yuan": "Median monthly wage (yuan)",
            "people": "Enrolled (people)"}[unit]
    fig.update_xaxes(title=axis, ticksuffix=" pp" if unit == "pp" else "", zeroline=True,
                     zerolinecolor="#999999")
    fig.update_yaxes(autorange="reversed", ticktext=[f"<b>{plotly_text(d)}</b>" if d in selected
                                                      else plotly_text(d) for d in shown["district"]],
                     tickvals=shown["district"], title=None)
    fig.update_layout(margin={"l": 120, "t": top, "b": 70})
    return fig


def _legend_offset(height: int, top: int, bottom: int, below: int = 62) -> float:
    """The legend's y (paper units) that puts it `below` px under the plot, under the x title."""
    return -below / max(1, height - top - bottom)


def _bold_selected(names: list[str], selected: set[str]) -> list[str]:
    return [f"<b>▶ {plotly_text(n)}</b>" if n in selected else plotly_text(n) for n in names]


def district_gap_chart(gap: pd.DataFrame, min_cell: int = 10, selected=()) -> go.Figure:
    """Skills and mindset placement within 180 days of exit per district as dots with Wilson 95%
    error bars, districts sorted by the gap (skills minus mindset) with its Newcombe interval at
    the right; districts whose gap is suppressed come last and their small sides are not drawn."""
    title = "Placed within 180 days of exit, skills and mindset training, by district"
    if gap.empty:
        return empty_chart(title, "No district has enrollments under these filters.")
    ranked = gap[~gap["gap_suppressed"].astype(bool)].sort_values("gap", ascending=False)
    rest = gap[gap["gap_suppressed"].astype(bool)].sort_values("district")
    order = ranked["district"].tolist() + rest["district"].tolist()
    selected = set(selected)
    fig = go.Figure()
    for program in ("skills", "mindset"):
        rate = f"{program}_placement_rate_180d"
        part = gap[~gap[f"{rate}_suppressed"].astype(bool)]
        fig.add_trace(go.Scatter(
            x=part[rate],
            y=part["district"],
            orientation="h",
            mode="markers",
            name=program_label(program),
            marker={"color": program_color(program), "size": 10,
                    "symbol": "circle" if program == "skills" else "diamond"},
            error_x={"type": "data", "symmetric": False, "array": part[f"{rate}_high"] - part[rate],
                     "arrayminus": part[rate] - part[f"{rate}_low"],
                     "color": hex_to_rgba(program_color(program), 0.7), "thickness": 1.5, "width": 4},
            # [0] the name a click hands back, [5] the same name as the hover shows it.
            customdata=list(zip(part["district"], part[f"{rate}_n"], part[f"{program}_placed_180d_count"],
                                part[f"{rate}_low"], part[f"{rate}_high"],
                                [plotly_text(d) for d in part["district"]])),
            hovertemplate=("<b>%{customdata[5]}</b><br>%{x:.1%} placed (95% CI %{customdata[3]:.1%}–"
                           "%{customdata[4]:.1%})<br>%{customdata[2]:,.0f} of %{customdata[1]:,} "
                           "followed<extra>%{fullData.name}</extra>"),
        ))
    for row in gap.to_dict("records"):
        text = ("suppressed" if row["gap_suppressed"] else
                f"{row['gap'] * 100:+.1f} pp [{row['gap_low'] * 100:+.1f}, {row['gap_high'] * 100:+.1f}]")
        fig.add_annotation(x=1.01, xref="paper", xanchor="left", y=row["district"], yref="y",
                           text=text, showarrow=False, font={"size": 12, "color": "#333333"})
    fig.add_annotation(x=1.01, xref="paper", xanchor="left", y=1.0, yref="paper", yanchor="bottom",
                       text="<b>Gap (95% CI)</b>", showarrow=False, font={"size": 12})
    n_skills = int(gap["skills_placement_rate_180d_n"].sum())
    n_mindset = int(gap["mindset_placement_rate_180d_n"].sum())
    subtitle = (f"Dots: share placed, 95% Wilson intervals; n = {n_skills:,} skills and {n_mindset:,} "
                "mindset trainees followed 180 days.<br>Sorted by the gap, skills minus mindset "
                "(95% Newcombe interval at the right): a raw difference, not an effect.")
    if not rest.empty:
        subtitle += "<br>" + _listed(f"Gap suppressed (fewer than {min_cell} followed on either side,"
                                     " or a side that would give such a district away), listed last:",
                                     rest["district"].tolist(), per_line=6)
    subtitle_lines = subtitle.count("<br>") + 1
    height = 215 + 34 * len(order) + 16 * subtitle_lines
    style_figure(fig, title, subtitle, height=height)
    fig.update_xaxes(title="Placed within 180 days of exit", tickformat=".0%")
    fig.update_yaxes(categoryorder="array", categoryarray=order, autorange="reversed",
                     tickvals=order, ticktext=_bold_selected(order, selected), title=None)
    fig.update_layout(scattermode="group", scattergap=0.45,
                      margin={"l": 120, "r": 190, "t": 90 + 16 * subtitle_lines, "b": 100},
                      legend={"y": _legend_offset(height, 90 + 16 * subtitle_lines, 100)})
    return fig


def prior_sector_placement_chart(rates: pd.DataFrame, min_cell: int = 10, selected=()) -> go.Figure:
    """Placement within 180 days of exit per prior sector and programme as grouped dots with
    Wilson 95% error bars; sectors sorted by skills minus mindset, so the top rows are where
    skills training does relatively best and the bottom rows where mindset training does;
    suppressed cells are not drawn and counted in the subtitle."""
    title = "Placed within 180 days of exit, by the sector of the lost job"
    shown = rates[~rates["placement_rate_180d_suppressed"].astype(bool)]
    if shown.empty:
        return empty_chart(title, f"No prior sector has {min_cell} or more people followed for 180 days.")
    wide = shown.pivot(index="prior_sector", columns="program_type", values="placement_rate_180d")
    gap = (wide["skills"] - wide["mindset"]) if {"skills", "mindset"} <= set(wide.columns) else None
    sectors = sorted(rates["prior_sector"].unique())
    if gap is not None:
        sectors = gap.dropna().sort_values(ascending=False).index.tolist() + [
            s for s in sectors if s not in gap.dropna().index]
    selected = set(selected)
    fig = go.Figure()
    for program, part in shown.groupby("program_type", sort=False):
        fig.add_trace(go.Scatter(
            x=part["placement_rate_180d"],
            y=part["prior_sector"],
            orientation="h",
            mode="markers",
            name=program_label(program),
            marker={"color": program_color(program), "size": 9},
            error_x={"type": "data", "symmetric": False,
                     "array": part["placement_rate_180d_high"] - part["placement_rate_180d"],
                     "arrayminus": part["placement_rate_180d"] - part["placement_rate_180d_low"],
                     "color": hex_to_rgba(program_color(program), 0.7), "thickness": 1.5, "width": 3},
            # [0] the name a click hands back, [5] the same name as the hover shows it.
            customdata=list(zip(part["prior_sector"], part["placement_rate_180d_n"],
                                part["placed_180d_count"], part["placement_rate_180d_low"],
                                part["placement_rate_180d_high"],
                                [plotly_text(n) for n in part["prior_sector"]])),
            hovertemplate=("<b>%{customdata[5]}</b><br>%{x:.1%} placed (95% CI %{customdata[3]:.1%}–"
                           "%{customdata[4]:.1%})<br>%{customdata[2]:,.0f} of %{customdata[1]:,} "
                           "followed<extra>%{fullData.name}</extra>"),
        ))
    n = int(rates["placement_rate_180d_n"].sum())
    hidden = int(rates["placement_rate_180d_suppressed"].astype(bool).sum())
    subtitle = (f"Dots: share placed, 95% Wilson intervals; n = {n:,} people followed 180 days after "
                "exit.<br>Sorted by skills minus mindset: top rows, sectors where skills training does "
                "relatively better; bottom rows, mindset training.")
    if hidden:
        subtitle += (f"<br>{hidden} programme × sector cell{'s' if hidden > 1 else ''} not drawn: "
                     f"fewer than {min_cell} people followed, or would give such a cell away "
                     "(suppressed).")
    top = 75 + 16 * (subtitle.count("<br>") + 1)
    height = top + 130 + 44 * len(sectors)
    style_figure(fig, title, subtitle, height=height)
    fig.update_layout(scattermode="group", scattergap=0.35, margin={"l": 150, "t": top, "b": 100},
                      legend={"y": _legend_offset(height, top, 100)})
    fig.update_xaxes(title="Placed within 180 days of exit", tickformat=".0%")
    fig.update_yaxes(categoryorder="array", categoryarray=sectors, autorange="reversed",
                     tickvals=sectors, ticktext=_bold_selected(sectors, selected), title=None)
    return fig


def _flow_label(column: int, name: str) -> str:
    if name == SMALL_FLOWS:
        return SMALL_FLOWS
    return EMPLOYER_LABELS.get(name, plotly_text(name)) if column == 2 else plotly_text(name)


def sector_flow_chart(flows: pd.DataFrame, program: str = "skills", min_cell: int = 10) -> go.Figure:
    """Sankey of first placements for one programme: prior sector -> the new job's sector ->
    its employer type, link widths = people; flows under `min_cell` arrive already folded into
    "other (small flows)" (flows.fold_small_flows) and anything still suppressed is not drawn."""
    title = f"From the lost job to the first new job: {program_label(program)}"
    part = flows[flows["program_type"] == program]
    links = part[(part["stage"] != "left_out") & ~part["placement_count_suppressed"].astype(bool)]
    if links.empty:
        return empty_chart(title, f"Fewer than {min_cell} first jobs for this programme under these filters.")
    stages = [("prior_to_sector", 0, 1), ("sector_to_employer", 1, 2)]
    nodes: dict[tuple[int, str], int] = {}
    totals: dict[tuple[int, str], float] = {}
    for stage, left, right in stages:
        rows = links[links["stage"] == stage]
        for column, names in ((left, rows["source"]), (right, rows["target"])):
            for name, count in zip(names, rows["placement_count"]):
                totals[(column, name)] = totals.get((column, name), 0) + count
    # Largest first within each column, the folded small flows last.
    ordered = sorted(totals, key=lambda k: (k[0], k[1] == SMALL_FLOWS, -totals[k], k[1]))
    for key in ordered:
        nodes[key] = len(nodes)
    color = program_color(program)
    node_colors = [
        "#D0D0D0" if name == SMALL_FLOWS else EMPLOYER_COLORS.get(name, "#8C8C8C") if column == 2
        else "#6F6F6F" for column, name in ordered]
    sources, targets, values, link_colors = [], [], [], []
    for stage, left, right in stages:
        for row in links[links["stage"] == stage].to_dict("records"):
            sources.append(nodes[(left, row["source"])])
            targets.append(nodes[(right, row["target"])])
            values.append(int(row["placement_count"]))
            if SMALL_FLOWS in (row["source"], row["target"]):
                link_colors.append("rgba(160,160,160,0.35)")
            elif stage == "sector_to_employer" and row["target"] in EMPLOYER_COLORS:
                link_colors.append(hex_to_rgba(EMPLOYER_COLORS[row["target"]], 0.3))
            else:
                link_colors.append(hex_to_rgba(color, 0.35))
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": [_flow_label(column, name) for column, name in ordered],
              "color": node_colors, "pad": 12, "thickness": 16,
              "line": {"color": "white", "width": 0.5},
              "hovertemplate": "%{label}: %{value:,} first jobs<extra></extra>"},
        link={"source": sources, "target": targets, "value": values, "color": link_colors,
              "hovertemplate": "%{source.label} → %{target.label}: %{value:,} first jobs<extra></extra>"},
        textfont={"size": 12, "family": FONT_FAMILY, "color": "#222222"},
    ))
    total = int(links.loc[links["stage"] == "prior_to_sector", "placement_count"].sum())
    subtitle = (f"Link widths: people; n = {total:,} first jobs started by as_of after enrolling in "
                f"{program_label(program).lower()}.<br>Flows of fewer than {min_cell} people are "
                f"folded into “{SMALL_FLOWS}” so no small group is shown.")
    left_out = part[part["stage"] == "left_out"]
    if not left_out.empty:
        count = left_out["placement_count"].iloc[0]
        amount = f"fewer than {min_cell}" if pd.isna(count) else f"{int(count):,}"
        subtitle += f" {amount} people in flows still too small after folding are not drawn."
    style_figure(fig, title, subtitle, height=640)
    for x, text in zip((0.0, 0.5, 1.0), FLOW_COLUMN_TITLES):
        fig.add_annotation(x=x, y=1.0, xref="paper", yref="paper", yanchor="bottom",
                           xanchor={0.0: "left", 0.5: "center", 1.0: "right"}[x],
                           text=f"<b>{text}</b>", showarrow=False, font={"size": 13})
    fig.update_layout(margin={"l": 20, "r": 20, "t": 135, "b": 20})
    return fig
