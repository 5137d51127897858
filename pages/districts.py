"""Districts: where does skills training place more people than mindset training, and where the
reverse? A map of the districts (a ranking when the extract has no shapes) and both programmes'
placement rates per district; clicking a district filters the whole dashboard to it."""

from dataclasses import replace

import streamlit as st

from reemploy import ui  # first: see the top of reemploy/ui.py
from reemploy import i18n
from reemploy.i18n import N_, _
from reemploy import charts, labels
from reemploy.contract import PROGRAM_TYPES
from reemploy.figures import districts

session = ui.open_page(
    "pages/districts.py",
    N_("In which districts does skills training get more laid-off workers into a job within 180 days "
    "of leaving than mindset training, and where is it the other way round?"),
    chart_filters={"districts_map": "district", "districts_gap": "district"},
)
ui.require_records(session)
ui.filter_hint(session, "district", _("district"),
               _("This page still shows every district and outlines the selected one."))
cell = session.min_cell
selected = session.filters.districts
# Districts are compared with each other here: the district filter marks them instead of
# removing the others (the other filters apply as usual).
every_district = replace(session.filters, districts=())
gap = session.load(districts.placement_gap_by_district, every_district)

metric_column, program_column, _spare = st.columns([2, 1, 1])
metric = metric_column.selectbox(_("Colour districts by"), list(labels.DISTRICT_METRICS),
                                 format_func=i18n.fixed(labels.district_metric_label), key="districts_metric")
program, data = "skills", gap
if metric != "gap":
    data = session.load(districts.outcomes_by_district, every_district)
    programs = [p for p in PROGRAM_TYPES if p in set(data["program_type"])]
    program = program_column.selectbox(_("Programme"), programs, format_func=i18n.fixed(labels.program_label),
                                       key="districts_program")
shapes = ui.district_shapes(session)
if shapes is None:
    figure = charts.district_ranked_chart(data, metric, program, cell, selected)
    how_to_read = (_("each bar is a district, ranked (the data have no `districts.geojson` to draw "
                   "a map from); click one to filter the dashboard to it."))
else:
    figure = charts.district_map_chart(data, shapes, metric, program, cell, selected)
    how_to_read = (_("blue where skills training placed more, orange where mindset did, white "
                     "for no difference; grey districts are suppressed. Click a district to "
                     "filter the dashboard to it.") if metric == "gap" else
                   _("the darker the district, the higher the figure chosen above for that "
                     "programme; grey districts are suppressed. Click a district to filter the "
                     "dashboard to it."))
# The files are named after what the map shows: the measure, and the programme it is coloured by.
map_name = f"district_map_{metric}" + ("" if metric == "gap" else f"_{program}")
ui.show_chart(figure, data, key="districts_map", how_to_read=how_to_read, name=map_name,
              across="districts", on_select="rerun", selection_mode="points")

ui.show_chart(
    charts.district_gap_chart(gap, cell, selected),
    gap,
    key="districts_gap",
    how_to_read=_("each row is a district: the blue dot is skills training, the orange diamond "
    "mindset training, the bars their 95% intervals; rows run from the largest skills advantage "
    "down to the largest mindset advantage. Click a dot to filter the dashboard to that district."),
    across="districts",
    on_select="rerun",
    selection_mode="points",
)
