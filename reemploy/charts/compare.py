"""Compare programmes: re-employment curves, placement by horizon and its skills-minus-mindset
difference, raw and adjusted differences, wages, employer mix and covariate balance."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reemploy import formatting as fmt
from reemploy import i18n, readouts
from reemploy.charts.style import LEGEND_AT_BOTTOM, axis_title, empty_chart, hex_to_rgba, style_figure
from reemploy.formatting import plotly_text
from reemploy.i18n import _, N_
from reemploy.labels import (DARK_EMPLOYER_COLORS, EMPLOYER_COLORS, EMPLOYER_ORDER, covariate_label,
                             curve_origin_text, employer_label, estimate_label, level_label,
                             program_color, program_label)
from reemploy.figures.compare import curves_cross

# Days at which the "number at risk" row under the curves is printed and the axis is ticked:
# finer within one year, half-yearly then yearly beyond.
CURVE_DAYS_SHORT = (0, 90, 180, 365, 545, 730)
CURVE_DAYS_LONG = (0, 180, 365, 730, 1095, 1460, 1825)
DIFFERENCE_COLOR = "#333333"


# What a programme left off a chart had too few of: a whole sentence for each.
NOT_DRAWN_NOTES = {
    "people": N_("Not drawn: {programmes} (fewer than {min_cell} people, suppressed)."),
    "first jobs with a wage": N_("Not drawn: {programmes} (fewer than {min_cell} first jobs with a "
                                 "wage, suppressed)."),
    "first jobs": N_("Not drawn: {programmes} (fewer than {min_cell} first jobs, suppressed)."),
}


def _not_drawn_note(programs, min_cell: int, what: str = "people") -> str:
    if not programs:
        return ""
    names = i18n.join([program_label(p) for p in programs])
    return " " + _(NOT_DRAWN_NOTES[what]).format(programmes=names, min_cell=i18n.number(min_cell))


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
    since = curve_origin_text(origin)
    if max_days is not None:
        title = _("Share re-employed by days since {origin}, first {days} days").format(
            origin=since, days=i18n.number(max_days))
        curves = curves[curves["day"] <= max_days]
    else:
        title = _("Share re-employed by days since {origin}").format(origin=since)
    if curves.empty or curves["reemployed_suppressed"].all():
        return empty_chart(title, _("No programme has {min_cell} or more people to follow.").format(
            min_cell=i18n.number(min_cell)))
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
        label = _("{programme} (n = {count})").format(programme=program_label(program),
                                                      count=i18n.number(total))
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
        fig.add_trace(go.Scatter(y=line["reemployed_low"], name=program_label(program), **band),
                      row=1, col=1)
        fig.add_trace(go.Scatter(y=line["reemployed_high"], name=program_label(program),
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
                hovertemplate=(_("%{y:.1%} (95% CI %{customdata[1]:.1%}–%{customdata[2]:.1%})"
                                 " · %{customdata[0]:,} at risk")
                               + "<extra>" + program_label(program) + "</extra>"),
            ),
            row=1, col=1,
        )
    # Not day 90 beside day 0 on a two-year axis: at 800 px their counts run into each other.
    risk_days = [d for d in (CURVE_DAYS_SHORT if last_day <= 365 else CURVE_DAYS_LONG)
                 if d <= last_day]
    for program, _label in labels:
        part = curves[curves["program_type"] == program].sort_values("day")
        counts = [_at_risk_on(part, d) for d in risk_days]
        fig.add_trace(
            go.Scatter(
                x=risk_days,
                y=[program_label(program)] * len(risk_days),
                mode="text",
                text=[i18n.number(c) if c >= min_cell else "&lt;" + i18n.number(min_cell)
                      for c in counts],
                # The first and last numbers sit on the edges: print them inwards.
                textposition=["middle right" if d == risk_days[0] else
                              "middle left" if d == risk_days[-1] else "middle center"
                              for d in risk_days],
                textfont={"color": program_color(program), "size": 11},
                showlegend=False,
                hoverinfo="skip",
                name=program_label(program),
            ),
            row=2, col=1,
        )
    # In words: whether the curves differ and, when they cross, that the test says not who is
    # ahead. The statistic is for analysts, under the chart (readouts.logrank_note).
    test_text = plotly_text(readouts.logrank_sentence(logrank, curves_cross(curves)))
    subtitle = (test_text + "<br>"
                + _("1 − Kaplan-Meier, 95% bands; people not yet placed count until the data date.")
                + "<br>" + _("Each curve stops where fewer than {min_cell} people remain at "
                             "risk.").format(min_cell=i18n.number(min_cell))
                + _not_drawn_note(hidden, min_cell))
    style_figure(fig, title, subtitle, height=500)
    fig.update_layout(hovermode="x unified")
    fig.update_yaxes(title=_("Re-employed (cumulative share)"), tickformat=".0%", rangemode="tozero",
                     row=1, col=1)
    # Reversed (first programme on top) with half a row of room so no number is cut.
    fig.update_yaxes(title=_("At risk"), range=[len(labels) - 0.3, -0.7], showgrid=False,
                     row=2, col=1, tickfont={"size": 11})
    fig.update_xaxes(range=[-0.01 * last_day, last_day * 1.02], tickvals=risk_days,
                     showgrid=True)
    fig.update_xaxes(title=_("Days since {origin}").format(origin=since), row=2, col=1)
    return fig


def placement_horizon_chart(rates: pd.DataFrame, min_cell: int) -> go.Figure:
    """Placement within 90, 180 and 365 days of exit per programme: dots with Wilson 95% error
    bars, grouped by horizon; suppressed cells are not drawn."""
    title = _("Placed within 90, 180 and 365 days of leaving")
    shown = rates[~rates["placement_rate_suppressed"].astype(bool)] if not rates.empty else rates
    if shown.empty:
        return empty_chart(title, _("No programme has {min_cell} or more people followed after "
                                    "exit.").format(min_cell=i18n.number(min_cell)))
    horizons = sorted(rates["horizon_days"].unique())
    horizon_text = {h: fmt.days(int(h)) for h in horizons}
    fig = go.Figure()
    for program, part in shown.groupby("program_type", sort=False):
        color = program_color(program)
        fig.add_trace(
            go.Scatter(
                x=[horizon_text[h] for h in part["horizon_days"]],
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
                hovertemplate=_("%{y:.1%} placed within %{x} (95% CI %{customdata[2]:.1%}–"
                                "%{customdata[3]:.1%})<br>%{customdata[0]:,} of %{customdata[1]:,}"
                                " followed<extra>%{fullData.name}</extra>"),
            )
        )
    first = rates[rates["horizon_days"] == horizons[0]]
    missing = int(rates["placement_rate_suppressed"].astype(bool).sum())
    note = (" " + _("Cells not drawn: {count}, fewer than {min_cell} people followed "
                    "(suppressed).").format(count=i18n.number(missing), min_cell=i18n.number(min_cell))
            if missing else "")
    style_figure(
        fig,
        title,
        _("Share with a first job within each number of days after leaving, 95% Wilson intervals; "
          "n = {count} followed {days} days, fewer for longer horizons.").format(
            count=i18n.number(int(first["placement_rate_n"].sum())), days=i18n.number(horizons[0]))
        + note,
        height=330,
    )
    fig.update_layout(scattermode="group", scattergap=0.55, legend=LEGEND_AT_BOTTOM)
    fig.update_xaxes(title=_("Time after leaving the programme"),
                     categoryorder="array", categoryarray=[horizon_text[h] for h in horizons])
    fig.update_yaxes(title=_("Placed (share of people followed)"), tickformat=".0%",
                     rangemode="tozero")
    return fig


def _difference_chart(df: pd.DataFrame, labels: list[str], title: str, subtitle: str,
                      hover_rows: list[str], min_cell: int) -> go.Figure:
    shown = ~df["difference_suppressed"].astype(bool) & df["difference"].notna()
    if not shown.any():
        return empty_chart(title, _("Needs skills and mindset each with {min_cell} or more "
                                    "people.").format(min_cell=i18n.number(min_cell)))
    part = df[shown]
    # The difference and its interval in the one format of every page, on a line of the row's
    # label: text beside the points would run off a narrow chart.
    texts = [fmt.with_interval(fmt.points(d), fmt.interval(lo, hi, kind="difference"))
             for d, lo, hi in zip(part["difference"], part["difference_low"], part["difference_high"])]
    y = [label + "<br><b>" + text + "</b>"
         for label, text in zip([label for label, keep in zip(labels, shown) if keep], texts)]
    hover = [text for text, keep in zip(hover_rows, shown) if keep]
    points = part["difference"] * 100
    fig = go.Figure(
        go.Scatter(
            x=points,
            y=y,
            mode="markers",
            marker={"color": DIFFERENCE_COLOR, "size": 11, "symbol": "diamond"},
            text=texts,
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
        subtitle += " " + _("Rows suppressed: {count} (fewer than {min_cell} people).").format(
            count=i18n.number(hidden), min_cell=i18n.number(min_cell))
    style_figure(fig, title, subtitle, height=60 + 80 * len(y))
    fig.add_vline(x=0, line={"color": "#999999", "width": 1})
    low = min(0.0, float((part["difference_low"] * 100).min()))
    high = max(0.0, float((part["difference_high"] * 100).max()))
    pad = max(1.0, (high - low) * 0.15)
    # The axis title names the unit: a suffix on every tick crowds a narrow chart.
    fig.update_xaxes(title=axis_title(_("Skills minus mindset (percentage points)")),
                     range=[low - pad, high + pad], zeroline=False)
    # Reversed (the first row on top).
    fig.update_yaxes(range=[len(y) - 0.5, -0.5], categoryorder="array", categoryarray=y)
    fig.update_layout(margin={"l": 20})
    return fig


def _difference_hover(row) -> str:
    return _("Skills {skills_rate} (n = {skills_n}) − mindset {mindset_rate} (n = "
             "{mindset_n})").format(skills_rate=i18n.percent(row["skills_rate"]),
                                    skills_n=i18n.number(int(row["skills_n"])),
                                    mindset_rate=i18n.percent(row["mindset_rate"]),
                                    mindset_n=i18n.number(int(row["mindset_n"])))


def _rates_text(row) -> str:
    if row["difference_suppressed"]:
        return _("suppressed")
    return _("{skills_rate} vs {mindset_rate}").format(skills_rate=i18n.percent(row["skills_rate"]),
                                                       mindset_rate=i18n.percent(row["mindset_rate"]))


def placement_difference_chart(differences: pd.DataFrame, min_cell: int) -> go.Figure:
    """Skills minus mindset placement rate within each horizon after exit, with Newcombe 95%
    intervals; suppressed rows are not drawn."""
    labels = [_("within {days} days").format(days=i18n.number(int(r["horizon_days"])))
              + "<br>" + _rates_text(r) for r in differences.to_dict("records")]
    hover = [_difference_hover(r) if not r["difference_suppressed"] else ""
             for r in differences.to_dict("records")]
    return _difference_chart(
        differences, labels, _("Skills minus mindset, by time after leaving"),
        _("Difference in placement rates (labels: skills vs mindset), 95% Newcombe intervals; "
          "right of 0: skills higher."),
        hover, min_cell,
    )


def adjusted_difference_chart(adjusted: pd.DataFrame, min_cell: int) -> go.Figure:
    """Raw and adjusted (direct standardisation) skills minus mindset placement within 180 days
    of exit, with 95% intervals; says it is an adjusted difference, not a causal effect."""
    # An estimate the data cannot support (a model that does not converge) is named, not drawn.
    failed = adjusted["reason"].notna() if "reason" in adjusted else pd.Series(False, adjusted.index)
    failed_text = "".join(_failed_text(r) + "<br>" for r in adjusted[failed].to_dict("records"))
    adjusted = adjusted[~failed]
    labels = [estimate_label(r["estimate"]) + "<br>" + _rates_text(r)
              for r in adjusted.to_dict("records")]
    hover = [_difference_hover(r) if not r["difference_suppressed"] else ""
             for r in adjusted.to_dict("records")]
    excluded = adjusted.loc[adjusted["estimate"] == "adjusted", "excluded_share"]
    excluded_text = (_("{share} of people are in groups only one programme has (no common "
                       "support) and are left out of the standardised row.").format(
        share=i18n.percent(excluded.iloc[0])) + "<br>"
        if not excluded.empty and pd.notna(excluded.iloc[0]) else "")
    return _difference_chart(
        adjusted, labels, _("Skills minus mindset, placed within 180 days: raw and adjusted"),
        _("Adjusted differences, not causal effects: each compares the same mix of age × gender ×"
          " education × prior sector × district.") + "<br>" + excluded_text + failed_text
        + _("95% intervals (raw: Newcombe; standardised: bootstrap over enrollees; models: "
            "influence function)."),
        hover, min_cell,
    )


def _failed_text(row) -> str:
    """An estimate that could not be made, with the reason the model gave (English text from
    reemploy.adjustment: shown as it is in English, and in general terms in other languages
    unless the catalogue has it)."""
    reason = str(row["reason"])
    detail = _(reason)
    if detail == reason and i18n.language() != i18n.DEFAULT_LANGUAGE:
        return _("{estimate}: not estimated (the model cannot be fitted to these data).").format(
            estimate=estimate_label(row["estimate"]))
    return _("{estimate}: not estimated ({reason}).").format(
        estimate=estimate_label(row["estimate"]), reason=detail)


def wage_chart(profile: pd.DataFrame, min_cell: int) -> go.Figure:
    """Monthly wage at the first job per programme as boxes drawn from quantiles computed in
    SQL (box 25th-75th percentile, line median, whiskers 10th and 90th)."""
    title = _("Monthly wage at the first job")
    shown = profile[~profile["monthly_wage_suppressed"].astype(bool)]
    if shown.empty:
        return empty_chart(title, _("No programme has {min_cell} or more first jobs with a "
                                    "wage.").format(min_cell=i18n.number(min_cell)))
    fig = go.Figure()
    for row in shown.to_dict("records"):
        program = row["program_type"]
        color = program_color(program)
        label = (program_label(program) + "<br>"
                 + _("median {wage}").format(wage=fmt.number(row["monthly_wage_p50"], 0, "yuan"))
                 + "<br>" + _("n = {count}").format(count=i18n.number(int(row["monthly_wage_n"]))))
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
        _("Box: 25th–75th percentile; line: median; whiskers: 10th and 90th percentiles (not the "
          "lowest and highest).") + _not_drawn_note(hidden, min_cell, "first jobs with a wage"),
        height=330,
    )
    fig.update_yaxes(title=_("Monthly wage (yuan)"), rangemode="tozero", tickformat=",")
    fig.update_xaxes(title=None)
    return fig


def employer_mix_chart(mix: pd.DataFrame, min_cell: int) -> go.Figure:
    """Employer type of the first job per programme as 100% stacked horizontal bars; programmes
    with fewer than `min_cell` first jobs are not drawn."""
    title = _("Who hired them: employer type of the first job")
    shown = mix[~mix["employer_share_suppressed"].astype(bool)] if not mix.empty else mix
    if shown.empty:
        return empty_chart(title, _("No programme has {min_cell} or more first jobs.").format(
            min_cell=i18n.number(min_cell)))
    programs = list(dict.fromkeys(shown["program_type"]))
    totals = shown.groupby("program_type")["employer_share_n"].first()
    y = [program_label(p) + "<br>" + _("n = {count}").format(count=i18n.number(int(totals[p])))
         for p in programs]
    fig = go.Figure()
    for employer in EMPLOYER_ORDER:
        part = shown[shown["employer_type"] == employer].set_index("program_type").reindex(programs)
        fig.add_trace(
            go.Bar(
                x=part["employer_share"],
                y=y,
                orientation="h",
                name=employer_label(employer),
                marker={"color": EMPLOYER_COLORS[employer]},
                text=[i18n.percent(s, 0) if s >= 0.04 else "" for s in part["employer_share"]],
                textposition="inside",
                insidetextanchor="middle",
                textfont={"color": "white" if employer in DARK_EMPLOYER_COLORS else "#222222"},
                customdata=part[["placement_count", "employer_share_n", "employer_share_low",
                                 "employer_share_high"]].to_numpy(),
                hovertemplate=(plotly_text(employer_label(employer)) + ": "
                               + _("%{x:.1%} (95% CI %{customdata[2]:.1%}–%{customdata[3]:.1%})"
                                   "<br>%{customdata[0]:,} of %{customdata[1]:,} first jobs")
                               + "<extra></extra>"),
            )
        )
    hidden = [p for p in dict.fromkeys(mix["program_type"]) if p not in programs]
    style_figure(
        fig,
        title,
        _("Share of first jobs after enrollment, each bar 100%; n = first jobs started by the data "
          "date.") + _not_drawn_note(hidden, min_cell, "first jobs"),
        height=110 + 62 * len(programs),
    )
    fig.update_layout(barmode="stack", bargap=0.35, margin={"l": 150},
                      legend={**LEGEND_AT_BOTTOM, "traceorder": "normal"})
    fig.update_xaxes(title=axis_title(_("Share of first jobs")), tickformat=".0%", range=[0, 1])
    fig.update_yaxes(autorange="reversed")
    return fig


def balance_chart(balance: pd.DataFrame, min_cell: int) -> go.Figure:
    """Standardized differences (skills - mindset) of each covariate level's share before
    adjustment, with the conventional |d| = 0.1 marks; coloured by the programme where the
    level is more common."""
    title = _("Who enrolled: skills vs mindset before adjustment")
    shown = (balance[~balance["std_diff_raw_suppressed"].astype(bool)]
             if not balance.empty else balance)
    if shown.empty:
        return empty_chart(title, _("Needs skills and mindset each with {min_cell} or more "
                                    "people.").format(min_cell=i18n.number(min_cell)))
    # Levels as people read them ("Education: Junior secondary", "Gender: Women"); names from
    # the data (sectors, districts) as the data has them.
    y = [_("{characteristic}: {level}").format(characteristic=covariate_label(c),
                                               level=plotly_text(level_label(c, level)))
         for c, level in zip(shown["covariate"], shown["level"])]
    colors = [program_color("skills") if d > 0 else program_color("mindset")
              for d in shown["std_diff_raw"]]
    fig = go.Figure(
        go.Scatter(
            x=shown["std_diff_raw"],
            y=y,
            mode="markers",
            marker={"color": colors, "size": 9},
            customdata=shown[["share_skills", "share_mindset"]].to_numpy(),
            hovertemplate=_("%{y}: skills %{customdata[0]:.1%}, mindset %{customdata[1]:.1%}"
                            "<br>standardised difference %{x:+.2f}<extra></extra>"),
            name=_("before adjustment"),
            showlegend=False,
        )
    )
    if "std_diff_weighted" in shown and shown["std_diff_weighted"].notna().any():
        fig.add_trace(go.Scatter(
            x=shown["std_diff_weighted"],
            y=y,
            mode="markers",
            marker={"color": "#333333", "size": 7, "symbol": "x-thin", "line": {"width": 2}},
            hovertemplate=_("%{y}: after propensity weighting %{x:+.2f}<extra></extra>"),
            name=_("after propensity weighting"),
            showlegend=True,
        ))
        fig.update_layout(legend={**LEGEND_AT_BOTTOM})
    for x, dash in ((-0.1, "dash"), (0.0, "solid"), (0.1, "dash")):
        fig.add_vline(x=x, line={"color": "#999999", "width": 1, "dash": dash})
    n = int(shown["std_diff_raw_n"].iloc[0])
    style_figure(
        fig,
        title,
        _("Standardised difference of each group's share; blue: more common in skills, orange: "
          "in mindset; beyond ±0.1 (dashed) is a notable imbalance.") + "<br>"
        + _("n = {count} in the smaller programme, people followed 180 days. After "
            "standardisation both carry the pooled shares; × marks the difference left after "
            "propensity weighting.").format(count=i18n.number(n)),
        height=60 + 19 * len(y),
    )
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=y,
                     tickfont={"size": 11})
    reach = max(0.15, float(shown["std_diff_raw"].abs().max()) * 1.1)
    fig.update_xaxes(title=axis_title(_("Standardised difference, skills − mindset")),
                     range=[-reach, reach])
    fig.update_layout(margin={"l": 20})
    return fig
