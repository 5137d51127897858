-- How long until the first job: days from enrollment ($origin = 'enrollment') or from leaving
-- the programme ($origin = 'exit') to the first placement, censored at as_of for people not yet
-- placed, as the counts Kaplan-Meier turns into a curve (re-employment curves, the log-rank test,
-- days without a job, median days to the first job). The days and the event flag are defined in
-- views/enrollment_outcomes.sql: days_from_enrollment is null for enrollments after as_of,
-- days_from_exit for people who have not left by as_of (they have no exit to count from); a job
-- found during the course counts on the day of exit (day 0) from exit, the placement rate's rule.
-- Grain: one row per program_type x days, or per district x program_type x days when
-- $by_district (district is null otherwise).
-- Key: district, program_type, days.
-- Parameters: $filters, $origin, $by_district.
with clock as (
    select
        case when $by_district then district end as district,
        program_type,
        case $origin when 'exit' then days_from_exit else days_from_enrollment end as days,
        is_placed_by_as_of
    from filtered_outcomes($filters)
)
select
    district,
    program_type,
    days::bigint as days,
    sum(is_placed_by_as_of)::bigint as events,
    count(*) - sum(is_placed_by_as_of)::bigint as censored
from clock
where days is not null
group by district, program_type, days
order by district, program_type, days
