"""Compare programmes: re-employment curves, placement by horizon and its skills-minus-mindset
difference, raw and adjusted differences, wages, employer mix and covariate balance."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reemploy.charts.style import LEGEND_AT_BOTTOM, empty_chart, hex_to_rgba, style_figure
from reemploy.formatting import plotly_text
from reemploy.labels import (COVARIATE_LABELS, CURVE_ORIGIN_TEXT, DARK_EMPLOYER_COLORS, EMPLOYER_COLORS,
                             EMPLOYER_LABELS, EMPLOYER_ORDER, ESTIMATE_LABELS, program_color,
                             program_label)
from reemploy.figures.compare import curves_cross

# Days at which the "number at risk" row under the curves is printed and the axis is ticked:
# finer within two years, yearly beyond.
CURVE_DAYS_SHORT = (0, 90, 180, 365, 545, 730)
CURVE_DAYS_LONG = (0, 180, 365, 730, 1095, 1460, 1825)
DIFFERENCE_COLOR = "#333333"


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
    fig.update_layout(scattermode="group", scattergap=0.55, legend=LEGEND_AT_BOTTOM)
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
                      legend={**LEGEND_AT_BOTTOM, "traceorder": "normal"})
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
        fig.update_layout(legend={**LEGEND_AT_BOTTOM})
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
