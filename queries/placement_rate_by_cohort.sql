-- Placement within 180 and within 365 days of exit per quarterly enrollment cohort, for the
-- trend on Overview and Trends. A cohort whose members have not all been followed for the
-- horizon after exit is not fully observed yet (observed count < enrolled_count): charts mark it
-- instead of showing a fall. is_open_quarter: the quarter was still running at $as_of, so its
-- enrollment count is partial too.
-- Grain: one row per program_type x enrollment quarter.
-- Parameters: $as_of and the common filters.
with outcomes as (
    select
        program_type,
        date_trunc('quarter', enrolled_on)::date as cohort_start,
        exited_on is not null and exited_on + 180 <= $as_of as is_observed_180d,
        placed_on is not null and placed_on <= exited_on + 180 as is_placed_180d,
        exited_on is not null and exited_on + 365 <= $as_of as is_observed_365d,
        placed_on is not null and placed_on <= exited_on + 365 as is_placed_365d
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
)
select
    program_type,
    cohort_start,
    (cohort_start + interval 3 month)::date > $as_of + 1 as is_open_quarter,
    count(*) as enrolled_count,
    count(*) filter (where is_observed_180d) as placement_rate_180d_n,
    count(*) filter (where is_observed_180d and is_placed_180d) as placed_180d_count,
    count(*) filter (where is_observed_365d) as placement_rate_365d_n,
    count(*) filter (where is_observed_365d and is_placed_365d) as placed_365d_count
from outcomes
group by program_type, cohort_start
order by program_type, cohort_start
