-- Days from leaving the programme (exited_on) to re-employment, censored at $as_of for people
-- not yet placed, aggregated for Kaplan-Meier. Only people who have left by $as_of are in it
-- (people still in training have no exit to count from). A first job that started during the
-- course counts as re-employed on the day of exit (day 0), the same rule as the placement rate,
-- which counts jobs from enrolled_on to exited_on + h: so this curve at day h and the placement
-- rate within h days of exit tell the same story.
-- Grain: one row per program_type x days.
-- Parameters: $as_of and the common filters.
with leavers as (
    select
        program_type,
        exited_on,
        placed_on is not null and placed_on <= $as_of as is_placed,
        placed_on
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
    where exited_on is not null
      and exited_on <= $as_of
),
durations as (
    select
        program_type,
        is_placed,
        case
            when is_placed then greatest(placed_on - exited_on, 0)
            else $as_of - exited_on
        end as days
    from leavers
)
select
    program_type,
    days,
    count(*) filter (where is_placed) as events,
    count(*) filter (where not is_placed) as censored
from durations
group by program_type, days
order by program_type, days
