-- Days from enrolled_on to the first placement, censored at $as_of for people not yet placed,
-- aggregated for Kaplan-Meier (which turns these counts into a survival curve).
-- Grain: one row per program_type x days.
-- Parameters: $as_of and the common filters.
with durations as (
    select
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
    program_type,
    days,
    count(*) filter (where is_placed) as events,
    count(*) filter (where not is_placed) as censored
from durations
group by program_type, days
order by program_type, days
