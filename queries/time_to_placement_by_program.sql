-- Days from enrolled_on to the first placement, censored at as_of for people not yet placed,
-- aggregated for Kaplan-Meier (which turns these counts into a survival curve). The days and the
-- event flag (is_placed_by_as_of) are defined in views/enrollment_outcomes.sql
-- (days_from_enrollment, null for enrollments after as_of).
-- Grain: one row per program_type x days.
-- Parameters: the common filters.
select
    program_type,
    days_from_enrollment::bigint as days,
    sum(is_placed_by_as_of)::bigint as events,
    count(*) - sum(is_placed_by_as_of)::bigint as censored
from filtered_outcomes(
    $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
)
where days_from_enrollment is not null
group by program_type, days_from_enrollment
order by program_type, days
