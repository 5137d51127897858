"""Sectors: from the sector of the job people lost to the sector and employer of their first new
job, per programme, and which prior sectors each programme serves best; clicking a prior sector
filters the whole dashboard to it."""

from dataclasses import replace

import streamlit as st

from reemploy import ui  # first: see the top of reemploy/ui.py
from reemploy import charts, labels
from reemploy.contract import PROGRAM_TYPES
from reemploy.figures import sectors

session = ui.open_page(
    "pages/sectors.py",
    "Where do laid-off workers go from the sector of the job they lost, and which prior sectors "
    "does each programme serve best?",
    chart_filters={"sectors_rates": "sector"},
)
ui.require_records(session)
ui.filter_hint(session, "sector", "prior sector",
               "The flows show only it; the chart of prior sectors still shows every sector and "
               "marks the selected one with ▶.")
cell = session.min_cell

st.subheader("From the lost job to the first new job")
flows = session.load(sectors.placement_flows_by_sector)
programs = [p for p in PROGRAM_TYPES if p in set(flows["program_type"])] or ["skills"]
program = st.selectbox("Programme", programs, format_func=labels.program_label,
                       index=programs.index("skills") if "skills" in programs else 0,
                       key="sectors_program")
ui.show_chart(
    charts.sector_flow_chart(flows, program, cell),
    flows[flows["program_type"] == program],
    name=f"{flows.attrs['question']}_{program}",
    key="sectors_flows",
    how_to_read="follow a band from the sector of the lost job (left) to the sector of the first "
    "new job (middle) and on to the kind of employer (right); its width is the number of people.",
)

st.subheader("Which prior sectors does each programme serve best?")
# Sectors are compared with each other here: the sector filter marks one instead of removing
# the others (the other filters apply as usual).
every_sector = replace(session.filters, sectors=())
rates = session.load(sectors.placement_rate_by_prior_sector, every_sector)
ui.show_chart(
    charts.prior_sector_placement_chart(rates, cell, session.filters.sectors),
    rates,
    key="sectors_rates",
    how_to_read="each row is the sector of the lost job, each dot a programme with its 95% "
    "interval; further right, more people placed within 180 days of leaving. Click a dot to "
    "filter the dashboard to that sector.",
    session=replace(session, filters=every_sector),
    on_select="rerun",
    selection_mode="points",
)
