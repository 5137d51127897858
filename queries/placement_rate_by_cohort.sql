-- Placement within 180 days of exit per quarterly enrollment cohort, for the trend on Overview.
-- A cohort whose members have not all been followed for 180 days after exit is not fully
-- observed yet (observed_count < enrolled_count): the chart marks it instead of showing a fall.
-- Grain: one row per program_type x enrollment quarter.
-- Parameters: $as_of and the common filters.
with outcomes as (
    select
        program_type,
        date_trunc('quarter', enrolled_on)::date as cohort_start,
        exited_on is not null and exited_on + 180 <= $as_of as is_observed_180d,
        placed_on is not null and placed_on <= exited_on + 180 as is_placed_180d
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
)
select
    program_type,
    cohort_start,
    count(*) as enrolled_count,
    count(*) filter (where is_observed_180d) as placement_rate_180d_n,
    count(*) filter (where is_observed_180d and is_placed_180d) as placed_180d_count
from outcomes
group by program_type, cohort_start
order by program_type, cohort_start
