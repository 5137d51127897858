-- How long does it take to find a first job in each district, per programme? Days from
-- enrolled_on to the first placement, censored at as_of for people not yet placed, aggregated
-- for Kaplan-Meier (the median days to first job per district on the district map). Days and
-- event flag as in time_to_placement_by_program.sql (views/enrollment_outcomes.sql).
-- Grain: one row per district x program_type x days.
-- Parameters: the common filters.
select
    district,
    program_type,
    days_from_enrollment::bigint as days,
    sum(is_placed_by_as_of)::bigint as events,
    count(*) - sum(is_placed_by_as_of)::bigint as censored
from filtered_outcomes(
    $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
)
where days_from_enrollment is not null
group by district, program_type, days_from_enrollment
order by district, program_type, days
