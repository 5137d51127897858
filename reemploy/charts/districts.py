"""Districts: the map drawn from the extract's own GeoJSON (label points from the shapes'
centroids), its ranked stand-in, and both programmes' placement per district with the gap."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from reemploy.charts.style import (axis_title, bold_selected, empty_chart, header_height,
                                   hex_to_rgba, legend_offset, style_figure)
from reemploy import formatting as fmt
from reemploy import i18n
from reemploy.formatting import plotly_text
from reemploy.i18n import _
from reemploy.labels import (DISTRICT_METRICS, PROGRAM_COLORS, district_metric_label, program_color,
                             program_label)

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
        return fmt.MISSING
    if unit == "pp":
        return fmt.points(value / 100)
    if unit == "percent":
        return i18n.percent(value / 100, 1)
    if unit in ("days", "yuan"):
        return fmt.number(value, 0, unit)
    return i18n.number(value)


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
            return name + "<br>" + _("gap suppressed: skills n = {skills_n}, mindset n = {mindset_n} "
                                     "followed").format(
                skills_n=i18n.number(int(row["skills_placement_rate_180d_n"])),
                mindset_n=i18n.number(int(row["mindset_placement_rate_180d_n"])))
        sides = " − ".join(
            _("{programme} {rate} (n = {count})").format(
                programme=program_label(p), rate=i18n.percent(row[f"{p}_placement_rate_180d"]),
                count=i18n.number(int(row[f"{p}_placement_rate_180d_n"])))
            if not row[f"{p}_placement_rate_180d_suppressed"] else
            _("{programme} suppressed").format(programme=program_label(p))
            for p in ("skills", "mindset"))
        gap = fmt.with_interval(fmt.points(row["gap"]),
                                fmt.interval(row["gap_low"], row["gap_high"], kind="difference"))
        return f"{name}<br>{gap}<br>{sides}"
    n_col = "enrolled_count" if metric == "enrolled_count" else f"{metric}_n"
    n_text = _("n = {count}").format(count=i18n.number(int(row[n_col])))
    if row.get(f"{metric}_suppressed", False):
        return name + "<br>" + _("{programme}: suppressed ({n})").format(
            programme=program_label(program), n=n_text)
    value = row[metric] * (100 if unit == "percent" else 1)
    if pd.isna(value):
        reason = _("median not reached yet") if metric == "median_days_to_placement" else _("no value")
        return name + "<br>" + _("{programme}: {reason} ({n})").format(
            programme=program_label(program), reason=reason, n=n_text)
    text = _value_text(value, unit)
    if f"{metric}_low" in row and pd.notna(row[f"{metric}_low"]):
        text = fmt.with_interval(text, fmt.interval(row[f"{metric}_low"], row[f"{metric}_high"]))
    return name + "<br>" + _("{programme}: {value}").format(
        programme=program_label(program), value=text) + "<br>" + n_text


def _district_title(metric: str, program: str) -> str:
    if metric == "gap":
        return _("Skills minus mindset training by district: placed within 180 days of exit")
    return _("{metric} by district: {programme}").format(metric=district_metric_label(metric),
                                                         programme=program_label(program))


def _district_subtitle(values: pd.DataFrame, metric: str, min_cell: int, unlisted: list[str]) -> str:
    n = int(values["n"].sum()) if not values.empty else 0
    count = i18n.number(n)
    if metric == "gap":
        text = (_("Blue: skills training placed more; orange: mindset training did (95% Newcombe "
                  "intervals in the hover).") + "<br>"
                + _("n = {count}: the smaller of the two groups followed, summed over districts; a "
                    "raw difference, not an effect.").format(count=count))
    elif DISTRICT_METRICS[metric][1] == "percent":
        text = _("Share placed, 95% Wilson intervals in the hover; n = {count} people followed 180 "
                 "days.").format(count=count)
    elif metric == "median_days_to_placement":
        text = _("Kaplan-Meier median: people still searching count until the data date; n = "
                 "{count} enrolled.").format(count=count)
    elif metric == "median_monthly_wage":
        text = _("n = {count} first jobs with a wage.").format(count=count)
    else:
        text = _("n = {count} enrolled.").format(count=count)
    hidden = sorted(values.loc[values["suppressed"], "district"])
    if hidden:
        text += "<br>" + _listed(_("Grey, suppressed (fewer than {min_cell}, or would give such a "
                                   "district away):").format(min_cell=i18n.number(min_cell)), hidden)
    if unlisted:
        text += "<br>" + _listed(_("No enrollments under these filters:"), sorted(unlisted))
    return text.strip()


def _listed(lead: str, names: list[str], per_line: int = 8) -> str:
    """`lead` and the names, `per_line` to a line, so a long list wraps instead of running off."""
    # Names come from the data: escaped, so a name cannot add a link or markup to the chart.
    names = [plotly_text(name) for name in names]
    comma = _(", ")
    lines = [comma.join(names[i:i + per_line]) for i in range(0, len(names), per_line)]
    return _("{lead} {names}.").format(lead=lead, names=(comma.rstrip() + "<br>").join(lines))


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
    _area, lon, lat = max((_ring_centroid(ring) for ring in _outer_rings(geometry)), key=lambda c: c[0])
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
    no_value = _("not reached") if metric == "median_days_to_placement" else _("no value")
    labels = {row["district"]: _("suppressed") if row["suppressed"] else
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
        text=[f"<b>{plotly_text(d)}</b><br>{labels.get(d, _('no enrollments'))}" for d in names],
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
        # The colour bar's title names the unit; only a percent sign is short enough per tick.
        suffix = "%" if unit == "percent" else ""
        districts = shown["district"].tolist()
        fig.add_trace(go.Choropleth(
            geojson=geojson,
            featureidkey="properties.district",
            locations=districts,
            z=shown["value"],
            **scale,
            marker={"line": {"color": "white", "width": 1}},
            colorbar={"title": {"text": {"pp": _("pp"), "percent": "%", "days": _("days"),
                                         "yuan": _("yuan"), "people": _("people")}[unit]},
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
            _("Suppressed (fewer than {min_cell} people, or would give such a district "
              "away)").format(min_cell=i18n.number(min_cell)),
            hidden["hover"].tolist()))
    blank = values[values["value"].isna() & ~values["suppressed"]]
    if not blank.empty:
        fig.add_trace(_grey_choropleth(
            geojson, blank["district"].tolist(), NO_VALUE_COLOR,
            _("Median not reached yet") if metric == "median_days_to_placement" else _("No value"),
            blank["hover"].tolist()))
    if unlisted:
        fig.add_trace(_grey_choropleth(
            geojson, unlisted, NO_DATA_COLOR, _("No enrollments under these filters"),
            [f"<b>{plotly_text(d)}</b><br>" + _("no enrollments under these filters")
             for d in unlisted]))
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
            name=_("Selected (filters the dashboard)"),
            showlegend=True,
        ))
    fig.update_geos(fitbounds="geojson", visible=False)
    subtitle = _district_subtitle(values, metric, min_cell, unlisted)
    style_figure(fig, title, subtitle, height=500)
    fig.update_layout(margin={"l": 10, "r": 10, "b": 70},
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
        return empty_chart(title, _("No district can be shown: each has fewer than {min_cell} "
                                    "people for this figure, or would give such a district "
                                    "away.").format(min_cell=i18n.number(min_cell)))
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
    style_figure(fig, title, subtitle, height=120 + 32 * len(shown))
    axis = {"pp": _("Skills minus mindset (percentage points)"),
            "percent": _("Placed within 180 days (%)"),
            "days": _("Median days to first job"), "yuan": _("Median monthly wage (yuan)"),
            "people": _("Enrolled (people)")}[unit]
    fig.update_xaxes(title=axis_title(axis),
                     zeroline=True,
                     zerolinecolor="#999999")
    fig.update_yaxes(autorange="reversed", ticktext=[f"<b>{plotly_text(d)}</b>" if d in selected
                                                      else plotly_text(d) for d in shown["district"]],
                     tickvals=shown["district"], title=None)
    fig.update_layout(margin={"l": 20, "b": 70})
    return fig


def district_gap_chart(gap: pd.DataFrame, min_cell: int = 10, selected=()) -> go.Figure:
    """Skills and mindset placement within 180 days of exit per district as dots with Wilson 95%
    error bars, districts sorted by the gap (skills minus mindset) with its Newcombe interval at
    the right; districts whose gap is suppressed come last and their small sides are not drawn."""
    title = _("Placed within 180 days of exit, skills and mindset training, by district")
    if gap.empty:
        return empty_chart(title, _("No district has enrollments under these filters."))
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
            hovertemplate=_("<b>%{customdata[5]}</b><br>%{x:.1%} placed (95% CI %{customdata[3]:.1%}–"
                            "%{customdata[4]:.1%})<br>%{customdata[2]:,.0f} of %{customdata[1]:,} "
                            "followed<extra>%{fullData.name}</extra>"),
        ))
    for row in gap.to_dict("records"):
        text = (_("suppressed") if row["gap_suppressed"] else
                # Short: the column heading says these are 95% intervals, and the full format
                # would run out of the chart's right margin.
                _("{gap} ({low} to {high})").format(gap=fmt.points(row["gap"]),
                                                    low=i18n.signed(row["gap_low"] * 100, 1),
                                                    high=i18n.signed(row["gap_high"] * 100, 1)))
        fig.add_annotation(x=1.01, xref="paper", xanchor="left", y=row["district"], yref="y",
                           text=text, showarrow=False, font={"size": 12, "color": "#333333"})
    fig.add_annotation(x=1.01, xref="paper", xanchor="left", y=1.0, yref="paper", yanchor="bottom",
                       text="<b>" + _("Gap (95% CI)") + "</b>", showarrow=False, font={"size": 12})
    n_skills = int(gap["skills_placement_rate_180d_n"].sum())
    n_mindset = int(gap["mindset_placement_rate_180d_n"].sum())
    subtitle = (_("Dots: share placed, 95% Wilson intervals; n = {skills_n} skills and {mindset_n} "
                  "mindset trainees followed 180 days.").format(skills_n=i18n.number(n_skills),
                                                                mindset_n=i18n.number(n_mindset))
                + "<br>" + _("Sorted by the gap, skills minus mindset (95% Newcombe interval at "
                             "the right): a raw difference, not an effect."))
    if not rest.empty:
        subtitle += "<br>" + _listed(_("Gap suppressed (fewer than {min_cell} followed on either "
                                       "side, or a side that would give such a district away), "
                                       "listed last:").format(min_cell=i18n.number(min_cell)),
                                     rest["district"].tolist(), per_line=6)
    top = header_height(title, subtitle)
    body = 125 + 34 * len(order)
    height = body + top
    style_figure(fig, title, subtitle, height=body)
    fig.update_xaxes(title=axis_title(_("Placed within 180 days of exit")), tickformat=".0%")
    fig.update_yaxes(categoryorder="array", categoryarray=order, autorange="reversed",
                     tickvals=order, ticktext=bold_selected(order, selected), title=None)
    fig.update_layout(scattermode="group", scattergap=0.45,
                      margin={"l": 20, "r": 190, "b": 100},
                      legend={"y": legend_offset(height, top, 100)})
    return fig
