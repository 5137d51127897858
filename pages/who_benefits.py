"""Who benefits: outcomes of each programme by age band, gender and education, so an official
sees which training works better for whom."""

import streamlit as st

from reemploy import ui  # first: see the top of reemploy/ui.py
from reemploy import i18n
from reemploy.i18n import N_, _
from reemploy import charts, readouts
from reemploy.labels import program_label
from reemploy.definitions import metric_label
from reemploy.figures import who_benefits
from reemploy.figures.common import COMPARED_PROGRAMS

session = ui.open_page(
    "pages/who_benefits.py",
    N_("Does skills training or mindset training work better for older or younger workers, for "
       "women or men, for people with more or less schooling? Each panel splits the programmes' "
       "people by one characteristic."),
)
first, second = (program_label(p) for p in COMPARED_PROGRAMS)
ui.require_records(session)
cell = session.min_cell

measure = st.radio(_("Outcome"), tuple(who_benefits.CHARACTERISTIC_MEASURES), format_func=i18n.fixed(metric_label),
                   horizontal=True, key="who_benefits_measure")
cells = session.load(who_benefits.outcomes_by_characteristic)
ui.show_chart(
    charts.outcomes_by_characteristic_chart(cells, measure, cell),
    cells,
    key="who_benefits_chart",
    how_to_read=_("within a panel, compare the colours at the same group: where the bars (95% "
    "intervals) of two programmes do not overlap, the difference is clear (bars that overlap a "
    "little can still differ: the sentences below test it). Compare the gap between groups to "
    "see for whom a programme works better."),
)
hidden = readouts.suppressed_cells(cells, measure, cell)
if hidden:
    st.caption(hidden)

st.subheader(_("{first} and {second}: where the gap is clear").format(first=first, second=second))
# Placement rests on the gap adjusted within each group (a raw gap can turn sign once the
# people in it are compared like with like); the other outcomes have no adjusted gap yet.
adjusted = measure == "placement_rate_180d"
gaps = (session.load(who_benefits.adjusted_gaps_by_characteristic) if adjusted
        else session.load(who_benefits.program_gaps_by_characteristic, measure=measure))
sentences = readouts.characteristic_sentences(gaps, adjusted=adjusted)
if sentences:
    st.markdown("\n".join(f"- {s}" for s in sentences))
else:
    st.caption(_("Both {first} and {second} need at least {cell} people in a group to compare "
                 "them.").format(first=first, second=second, cell=cell))
ui.downloads(gaps, "who_benefits_gaps")
caveat = _("Not causal effects. Many groups are compared at once, so expect an occasional "
           "clear difference by chance. Groups with gender or education not recorded are drawn "
           "but not compared.")
st.caption((_("Gaps adjusted within each group: skills and mindset compared over the same mix of "
              "the other characteristics, prior sector and district (direct standardisation, "
              "bootstrap 95% intervals); the chart above shows the raw rates.") if adjusted else
            _("Raw differences within each group: within a group the programmes can still enrol "
              "different people, so a raw gap can turn sign once they are compared like with "
              "like.")) + " " + caveat)
