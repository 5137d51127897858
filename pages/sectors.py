"""Sectors: from the sector of the job people lost to the sector and employer of their first new
job, per programme (a heatmap of prior x new sector, the flow diagram or a table), and which
prior sectors each programme serves best; clicking a prior sector filters the whole dashboard to
it."""

from dataclasses import replace

import streamlit as st

from reemploy import ui  # first: see the top of reemploy/ui.py
from reemploy import charts, i18n, labels
from reemploy.contract import PROGRAM_TYPES
from reemploy.figures import sectors
from reemploy.flows import SMALL_FLOWS
from reemploy.i18n import _, N_

# The views of the flows: code (kept in the widget's state) -> its name.
FLOW_VIEWS = {"heatmap": N_("Heatmap"), "sankey": N_("Flow diagram"), "table": N_("Table")}

session = ui.open_page(
    "pages/sectors.py",
    N_("Where do laid-off workers go from the sector of the job they lost, and which prior sectors "
       "does each programme serve best?"),
    chart_filters={"sectors_rates": "sector"},
)
ui.require_records(session)
ui.filter_hint(session, "sector", _("prior sector"),
               _("The flows show only it; the chart of prior sectors still shows every sector and "
                 "marks the selected one with ▶."))
cell = session.min_cell

st.subheader(_("From the lost job to the first new job"))
flows = session.load(sectors.placement_flows_by_sector)
programs = [p for p in PROGRAM_TYPES if p in set(flows["program_type"])] or ["skills"]
program_column, view_column = st.columns([1, 1], vertical_alignment="bottom")
program = program_column.selectbox(_("Programme"), programs, format_func=i18n.fixed(labels.program_label),
                                   index=programs.index("skills") if "skills" in programs else 0,
                                   key="sectors_program")
view = view_column.segmented_control(_("Show the flows as"), list(FLOW_VIEWS), default="heatmap",
                                     required=True, format_func=i18n.fixed(lambda code: _(FLOW_VIEWS[code])),
                                     key="sectors_view") or "heatmap"
shown_flows = flows[flows["program_type"] == program]
flows_name = f"{flows.attrs['question']}_{program}"
if view == "heatmap":
    ui.show_chart(
        charts.sector_heatmap_chart(flows, program, cell),
        shown_flows,
        name=flows_name,
        key="sectors_heatmap",
        how_to_read=_("each row is the sector of the lost job and adds up to 100%; each cell is "
                      "the share of that row's first jobs found in the sector of its column, the "
                      "darker the larger (the number of people in the hover). Blank cells have "
                      "fewer than {min_cell} people or none: small flows are counted in “{other}”.")
        .format(min_cell=i18n.number(cell), other=_(SMALL_FLOWS)),
    )
elif view == "sankey":
    ui.show_chart(
        charts.sector_flow_chart(flows, program, cell),
        shown_flows,
        name=flows_name,
        key="sectors_flows",
        how_to_read=_("follow a band from the sector of the lost job (left) to the sector of the "
                      "first new job (middle) and on to the kind of employer (right); its width is "
                      "the number of people."),
    )
else:
    ui.show_table(
        charts.sector_flow_table(flows, program),
        shown_flows,
        key="sectors_table",
        how_to_read=_("each row is the sector of the lost job with its number of first jobs, and "
                      "the share of them found in each new sector (rounded; each row adds up to "
                      "100%). Blank: fewer than {min_cell} people or none; small flows are counted "
                      "in “{other}”.").format(min_cell=i18n.number(cell), other=_(SMALL_FLOWS)),
    )

st.subheader(_("Which prior sectors does each programme serve best?"))
# Sectors are compared with each other here: the sector filter marks one instead of removing
# the others (the other filters apply as usual).
every_sector = replace(session.filters, sectors=())
rates = session.load(sectors.placement_rate_by_prior_sector, every_sector)
ui.show_chart(
    charts.prior_sector_placement_chart(rates, cell, session.filters.sectors),
    rates,
    key="sectors_rates",
    how_to_read=_("each row is the sector of the lost job, each dot a programme with its 95% "
                  "interval; further right, more people placed within 180 days of leaving. Click a "
                  "dot to filter the dashboard to that sector."),
    session=replace(session, filters=every_sector),
    on_select="rerun",
    selection_mode="points",
)
