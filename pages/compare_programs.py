"""Compare programmes: skills vs mindset training over time, by horizon, wage, employer and
adjusted for who enrolled; no training as the reference, combined shown when present."""

import streamlit as st

from reemploy import ui  # first: see the top of reemploy/ui.py
from reemploy.i18n import N_, _
from reemploy import charts, readouts, tables
from reemploy.figures import compare, headline

session = ui.open_page(
    "pages/compare_programs.py",
    N_("Skills training or mindset training: which gets laid-off workers back to work, how fast, "
    "in which jobs and at what wage? Registered job seekers without training are the reference."),
)
ui.require_records(session)
cell = session.min_cell

st.subheader(_("How fast do people find work?"))
controls = st.columns(2)
origin = controls[0].radio(
    _("Count the days since"),
    ("enrollment", "exit"),
    format_func={"enrollment": _("enrollment"), "exit": _("leaving the programme")}.get,
    horizontal=True,
    key="compare_origin",
    help=_("Since enrollment shows the lock-in of long courses: people search less while they "
    "train. Since exit counts only people who have left by the data date; a job found during "
    "the course counts as re-employed on the day of exit (day 0), as in the placement rate."),
)
window = controls[1].radio(
    _("Show"),
    (365, 730, None),
    index=1,
    format_func={365: _("first year"), 730: _("first two years"), None: _("all days")}.get,
    horizontal=True,
    key="compare_window",
    help=_("The first months are where long courses hold people back; the later years are where "
    "training pays off or fades. The downloaded numbers always cover all days."),
)
curves = session.load(compare.reemployment_curves, origin=origin)
logrank = session.load(compare.reemployment_logrank, origin=origin)
ui.show_chart(
    charts.reemployment_curve_chart(curves, logrank, cell, origin, max_days=window),
    curves,
    key="compare_curves",
    how_to_read=(
        _("each line is the share of a programme's people who have started a job by that day, "
          "counting those still searching (Kaplan-Meier); a line that starts flat and then "
          "climbs is a course that keeps people busy first (lock-in). The row underneath is how "
          "many people each point still rests on.") if origin == "enrollment" else
        _("each line is the share of a programme's people who have started a job by that day, "
          "counting those still searching (Kaplan-Meier); the height at day 0 is the share who "
          "found a job before the course ended. The row underneath is how many people each "
          "point still rests on.")),
)

if note := readouts.logrank_note(logrank):
    st.caption(note)

without_job = session.load(compare.days_without_job, origin=origin)
ui.show_table(
    tables.days_without_job_table(without_job, cell),
    without_job,
    key="compare_days_without_job",
    how_to_read=_("the average number of days, of the first 180, 365 or 730, that people spent "
    "before their first job (the area above the curve, restricted mean); fewer days is sooner "
    "back to work. Where the curves cross, the windows say who is ahead when."),
)

st.subheader(_("Placed within 90, 180 and 365 days of leaving"))
rates = session.load(compare.placement_rate_by_program_and_horizon)
ui.show_chart(
    charts.placement_horizon_chart(rates, cell),
    rates,
    key="compare_horizons",
    how_to_read=_("each dot is the share of people followed for that long after leaving who "
    "started a job between enrollment and that day; the bar is the 95% interval."),
)
differences = session.load(compare.placement_difference_by_horizon)
ui.show_chart(
    charts.placement_difference_chart(differences, cell),
    differences,
    key="compare_differences",
    how_to_read=_("right of the zero line, skills training placed more people; an interval "
    "that crosses zero means the data cannot tell the two apart."),
)

st.subheader(_("Wages, job retention, completion and cost"))
profile = session.load(headline.headline_by_program)
profile_table = tables.programme_profile_table(profile, cell)
st.table(profile_table.set_index(profile_table.columns[0]))
st.caption(_("In brackets: 95% Wilson interval. n: the people each figure is computed over "
           "(exited for completion, followed long enough for placement and retention, first "
           "jobs with a wage for wages). Cost per placement: course costs of the people followed "
           "180 days divided by those placed within 180 days."))
ui.show_chart(
    charts.wage_chart(profile, cell),
    profile,
    key="compare_wages",
    how_to_read=_("the box holds the middle half of first-job wages, the line is the median, the "
    "whiskers reach the 10th and 90th percentiles."),
)

st.subheader(_("Which jobs did they take?"))
mix = session.load(compare.employer_mix_by_program)
ui.show_chart(
    charts.employer_mix_chart(mix, cell),
    mix,
    key="compare_employers",
    how_to_read=_("each bar splits a programme's first jobs by employer, from the posts laid-off "
    "workers used to expect (state-owned, foreign-funded) on the left to private jobs and "
    "self-employment on the right; a bar weighted to the right means people accepted a wider "
    "range of jobs."),
)

st.subheader(_("Is it the training or who enrolled?"))
st.markdown(
    _("Skills and mindset courses enrol different people. The **adjusted differences** compare "
    "them as if both had enrolled the same mix of age, gender, education, prior sector and "
    "district (missing gender or education counts as its own group, *unknown*), in three "
    "ways: standardising both to the same mix, weighting people by how likely someone like "
    "them was to choose skills (propensity weighting), and modelling placement (regression; "
    "both models together: doubly robust). When the three agree, the adjustment does not hang "
    "on one model. They are **adjusted differences, not causal effects**: anything else that "
    "differs between the enrollees (motivation, caseworker choice) is still in them.")
)
adjusted = session.load(compare.adjusted_placement_difference)
ui.show_chart(
    charts.adjusted_difference_chart(adjusted, cell),
    adjusted,
    key="compare_adjusted",
    how_to_read=_("if the adjusted diamond sits far from the raw one, much of the raw gap comes "
    "from who enrolled rather than from the course."),
)
balance = session.load(compare.covariate_balance)
ui.show_chart(
    charts.balance_chart(balance, cell),
    balance,
    key="compare_balance",
    how_to_read=_("each dot is one group of people; far from zero means skills and mindset "
    "enrolled very different shares of that group, which the adjustment evens out."),
)
