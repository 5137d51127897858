-- How long does it take to find a first job in each district, per programme? Days from
-- enrolled_on to the first placement, censored at $as_of for people not yet placed, aggregated
-- for Kaplan-Meier (the median days to first job per district on the district map).
-- Grain: one row per district x program_type x days.
-- Parameters: $as_of and the common filters.
with durations as (
    select
        district,
        program_type,
        placed_on is not null and placed_on <= $as_of as is_placed,
        case
            when placed_on is not null and placed_on <= $as_of then placed_on - enrolled_on
            else $as_of - enrolled_on
        end as days
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
    where enrolled_on <= $as_of
)
select
    district,
    program_type,
    days,
    count(*) filter (where is_placed) as events,
    count(*) filter (where not is_placed) as censored
from durations
group by district, program_type, days
order by district, program_type, days
