"""Sectors: flows from the lost job to the first new job (a heatmap of prior sector x new sector,
a Sankey, a table), and placement by prior sector."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from reemploy import i18n
from reemploy.charts.style import (axis_title, bold_selected, empty_chart, header_height,
                                   hex_to_rgba, legend_offset, style_figure, wrap_text)
from reemploy.formatting import plotly_text
from reemploy.i18n import _
from reemploy.labels import (EMPLOYER_COLORS, EMPLOYER_LABELS, FONT_FAMILY, employer_label,
                             flow_column_title, flow_column_titles, program_color, program_label)
from reemploy.flows import SMALL_FLOWS, flow_matrix

# Cells of the heatmap with no drawn flow: none, or folded into "other (small flows)".
BLANK_CELL_COLOR = "#F2F2F2"


def prior_sector_placement_chart(rates: pd.DataFrame, min_cell: int = 10, selected=()) -> go.Figure:
    """Placement within 180 days of exit per prior sector and programme as grouped dots with
    Wilson 95% error bars; sectors sorted by skills minus mindset, so the top rows are where
    skills training does relatively best and the bottom rows where mindset training does;
    suppressed cells are not drawn and counted in the subtitle."""
    title = _("Placed within 180 days of exit, by the sector of the lost job")
    shown = rates[~rates["placement_rate_180d_suppressed"].astype(bool)]
    if shown.empty:
        return empty_chart(title, _("No prior sector has {count} or more people followed for 180 "
                                    "days.").format(count=i18n.number(min_cell)))
    wide = shown.pivot(index="prior_sector", columns="program_type", values="placement_rate_180d")
    gap = (wide["skills"] - wide["mindset"]) if {"skills", "mindset"} <= set(wide.columns) else None
    sectors = sorted(rates["prior_sector"].unique())
    if gap is not None:
        sectors = gap.dropna().sort_values(ascending=False).index.tolist() + [
            s for s in sectors if s not in gap.dropna().index]
    selected = set(selected)
    hover = _("<b>%{customdata[5]}</b><br>%{x:.1%} placed (95% CI %{customdata[3]:.1%}–"
              "%{customdata[4]:.1%})<br>%{customdata[2]:,.0f} of %{customdata[1]:,} "
              "followed<extra>%{fullData.name}</extra>")
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
            hovertemplate=hover,
        ))
    n = int(rates["placement_rate_180d_n"].sum())
    hidden = int(rates["placement_rate_180d_suppressed"].astype(bool).sum())
    subtitle = _("Dots: share placed, 95% Wilson intervals; n = {count} people followed 180 days "
                 "after exit.").format(count=i18n.number(n))
    subtitle += "<br>" + _("Sorted by skills minus mindset: top rows, sectors where skills "
                           "training does relatively better; bottom rows, mindset training.")
    if hidden:
        text = (_("{count} programme × sector cells not drawn: fewer than {min_cell} people "
                  "followed, or would give such a cell away (suppressed).") if hidden > 1 else
                _("{count} programme × sector cell not drawn: fewer than {min_cell} people "
                  "followed, or would give such a cell away (suppressed)."))
        subtitle += "<br>" + text.format(count=i18n.number(hidden), min_cell=i18n.number(min_cell))
    top = header_height(title, subtitle)
    body = 130 + 44 * len(sectors)
    style_figure(fig, title, subtitle, height=body)
    fig.update_layout(scattermode="group", scattergap=0.35, margin={"l": 150, "b": 100},
                      legend={"y": legend_offset(body + top, top, 100)})
    fig.update_xaxes(title=axis_title(_("Placed within 180 days of exit")), tickformat=".0%")
    fig.update_yaxes(categoryorder="array", categoryarray=sectors, autorange="reversed",
                     tickvals=sectors, ticktext=bold_selected(sectors, selected), title=None)
    return fig


def _sector_text(name: str) -> str:
    """A sector as a chart shows it: the data's name, or the folded small flows translated."""
    return _(SMALL_FLOWS) if name == SMALL_FLOWS else plotly_text(name)


def _flow_label(column: int, name: str) -> str:
    if name == SMALL_FLOWS:
        return _(SMALL_FLOWS)
    if column == 2 and name in EMPLOYER_LABELS:
        return employer_label(name)
    return plotly_text(name)


def _left_out_text(part: pd.DataFrame, min_cell: int) -> str:
    left_out = part[part["stage"] == "left_out"]
    if left_out.empty:
        return ""
    count = left_out["placement_count"].iloc[0]
    if pd.isna(count):
        return _("Fewer than {min_cell} people in flows still too small after folding are not "
                 "drawn.").format(min_cell=i18n.number(min_cell))
    return _("{count} people in flows still too small after folding are not drawn.").format(
        count=i18n.number(int(count)))


def sector_flow_chart(flows: pd.DataFrame, program: str = "skills", min_cell: int = 10) -> go.Figure:
    """Sankey of first placements for one programme: prior sector -> the new job's sector ->
    its employer type, link widths = people; flows under `min_cell` arrive already folded into
    "other (small flows)" (flows.fold_small_flows) and anything still suppressed is not drawn."""
    title = _("From the lost job to the first new job: {programme}").format(
        programme=program_label(program))
    part = flows[flows["program_type"] == program]
    links = part[(part["stage"] != "left_out") & ~part["placement_count_suppressed"].astype(bool)]
    if links.empty:
        return empty_chart(title, _("Fewer than {min_cell} first jobs for this programme under "
                                    "these filters.").format(min_cell=i18n.number(min_cell)))
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
              "hovertemplate": _("%{label}: %{value:,} first jobs<extra></extra>")},
        link={"source": sources, "target": targets, "value": values, "color": link_colors,
              "hovertemplate": _("%{source.label} → %{target.label}: %{value:,} first "
                                 "jobs<extra></extra>")},
        textfont={"size": 12, "family": FONT_FAMILY, "color": "#222222"},
    ))
    total = int(links.loc[links["stage"] == "prior_to_sector", "placement_count"].sum())
    subtitle = _("Link widths: people; n = {count} first jobs started by the data date after "
                 "enrolling.").format(count=i18n.number(total))
    subtitle += "<br>" + _("Flows of fewer than {min_cell} people are folded into “{other}” so no "
                           "small group is shown.").format(min_cell=i18n.number(min_cell),
                                                           other=_(SMALL_FLOWS))
    left_out = _left_out_text(part, min_cell)
    if left_out:
        subtitle += " " + left_out
    style_figure(fig, title, subtitle, height=560)
    # The column titles sit between the subtitle and the diagram.
    for x, text in zip((0.0, 0.5, 1.0), flow_column_titles()):
        fig.add_annotation(x=x, y=1.0, xref="paper", yref="paper", yanchor="bottom",
                           xanchor={0.0: "left", 0.5: "center", 1.0: "right"}[x],
                           text="<b>" + wrap_text(text, 16) + "</b>", showarrow=False,
                           font={"size": 13})
    # Room for the column titles, on two lines where a phone needs them.
    lines = max(wrap_text(text, 16).count("<br>") + 1 for text in flow_column_titles())
    top = header_height(title, subtitle) + 12 + 18 * lines
    fig.update_layout(margin={"l": 20, "r": 20, "t": top, "b": 20}, height=560 + top)
    return fig


def sector_heatmap_chart(flows: pd.DataFrame, program: str = "skills", min_cell: int = 10) -> go.Figure:
    """The prior sector -> new sector flows of one programme as a heatmap: each row a prior
    sector, each cell the share of that row's first jobs in a new sector (the percentage printed
    on it, the count in the hover). Reshapes the folded, suppressed answer (flows.flow_matrix):
    cells with no drawn flow are blank, flows under `min_cell` sit in “other (small flows)”."""
    title = _("Sector of the lost job by sector of the first new job: {programme}").format(
        programme=program_label(program))
    counts, shares = flow_matrix(flows, program)
    if counts.empty:
        return empty_chart(title, _("Fewer than {min_cell} first jobs for this programme under "
                                    "these filters.").format(min_cell=i18n.number(min_cell)))
    rows, columns = list(counts.index), list(counts.columns)
    row_totals = counts.sum(axis=1)
    # The row's n on a line of its own: the labels stay narrow on a phone.
    y = [_sector_text(r) + "<br>" + _("n = {count}").format(count=i18n.number(int(row_totals[r])))
         for r in rows]
    x = [_sector_text(c) for c in columns]
    z = shares.to_numpy()
    text = [["" if pd.isna(v) else i18n.percent(v, 0) for v in row] for row in z]
    customdata = [[[_sector_text(r), _sector_text(c),
                    "" if pd.isna(counts.loc[r, c]) else i18n.number(int(counts.loc[r, c])),
                    i18n.number(int(row_totals[r]))]
                   for c in columns] for r in rows]
    color = program_color(program)
    fig = go.Figure(go.Heatmap(
        z=z,
        x=x,
        y=y,
        text=text,
        texttemplate="%{text}",
        textfont={"size": 10},
        customdata=customdata,
        hovertemplate=_("Lost a job in %{customdata[0]}, first new job in %{customdata[1]}:"
                        "<br>%{z:.1%} of the row's first jobs (%{customdata[2]} of "
                        "%{customdata[3]})<extra></extra>"),
        hoverongaps=False,
        colorscale=[[0.0, "#FFFFFF"], [0.05, hex_to_rgba(color, 0.12)], [1.0, color]],
        zmin=0.0,
        zmax=max(0.5, float(pd.Series(z.ravel()).max())),
        xgap=2,
        ygap=2,
        # Every cell prints its share, so no colour bar: on a phone it only squeezed the chart.
        showscale=False,
    ))
    total = int(row_totals.sum())
    subtitle = _("Rows: the sector of the lost job, each row 100%; columns: the sector of the "
                 "first new job; n = {count} first jobs.").format(count=i18n.number(total))
    subtitle += "<br>" + _("Blank: fewer than {min_cell} people or none; small flows are folded "
                           "into “{other}” so no small group is shown.").format(
        min_cell=i18n.number(min_cell), other=_(SMALL_FLOWS))
    left_out = _left_out_text(flows[flows["program_type"] == program], min_cell)
    if left_out:
        subtitle += " " + left_out
    body = 260 + 34 * len(rows)
    style_figure(fig, title, subtitle, height=body)
    fig.update_layout(plot_bgcolor=BLANK_CELL_COLOR, margin={"l": 20, "r": 20, "b": 90})
    fig.update_xaxes(title=flow_column_title(1), autotickangles=[0, 90], showgrid=False,
                     tickfont={"size": 11})
    # No y title (the subtitle says what the rows are): the room goes to the cells on a phone.
    fig.update_yaxes(title=None, autorange="reversed", showgrid=False,
                     tickfont={"size": 11})
    return fig


def sector_flow_table(flows: pd.DataFrame, program: str = "skills") -> pd.DataFrame:
    """The heatmap as a display table: a row per prior sector, its first jobs, and the share
    of them in each new sector (rounded percentages; blank where the heatmap is)."""
    counts, shares = flow_matrix(flows, program)
    prior = flow_column_title(0)
    first_jobs = _("First jobs")
    if counts.empty:
        return pd.DataFrame(columns=[prior, first_jobs])
    table = pd.DataFrame({
        prior: [_(SMALL_FLOWS) if r == SMALL_FLOWS else str(r) for r in counts.index],
        first_jobs: [i18n.number(int(v)) for v in counts.sum(axis=1)],
    })
    for column in counts.columns:
        name = _(SMALL_FLOWS) if column == SMALL_FLOWS else str(column)
        table[name] = ["" if pd.isna(v) else i18n.percent(v, 0) for v in shares[column]]
    return table
