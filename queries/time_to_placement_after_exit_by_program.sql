-- Days from leaving the programme (exited_on) to re-employment, censored at as_of for people
-- not yet placed, aggregated for Kaplan-Meier. Only people who have left by as_of are in it
-- (people still in training have no exit to count from). A first job that started during the
-- course counts as re-employed on the day of exit (day 0), the same rule as the placement rate,
-- which counts jobs from enrolled_on to exited_on + h: so this curve at day h and the placement
-- rate within h days of exit tell the same story. The days (days_from_exit, null for people who
-- have not left by as_of) and the event flag are defined in views/enrollment_outcomes.sql.
-- Grain: one row per program_type x days.
-- Parameters: the common filters.
select
    program_type,
    days_from_exit::bigint as days,
    sum(is_placed_by_as_of)::bigint as events,
    count(*) - sum(is_placed_by_as_of)::bigint as censored
from filtered_outcomes(
    $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
)
where days_from_exit is not null
group by program_type, days_from_exit
order by program_type, days
