"""Sectors: flows from the lost job to the first new job, and placement by prior sector."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from reemploy.charts.style import (bold_selected, empty_chart, hex_to_rgba, legend_offset,
                                   style_figure)
from reemploy.formatting import plotly_text
from reemploy.labels import (EMPLOYER_COLORS, EMPLOYER_LABELS, FLOW_COLUMN_TITLES, FONT_FAMILY,
                             program_color, program_label)
from reemploy.flows import SMALL_FLOWS

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
                      legend={"y": legend_offset(height, top, 100)})
    fig.update_xaxes(title="Placed within 180 days of exit", tickformat=".0%")
    fig.update_yaxes(categoryorder="array", categoryarray=sectors, autorange="reversed",
                     tickvals=sectors, ticktext=bold_selected(sectors, selected), title=None)
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
