-- Which prior sectors (the sector of the job people lost) does each programme serve best?
-- Placement within 180 days of exit per prior sector and programme.
-- Grain: one row per prior_sector x program_type present under the filters.
-- Parameters: $as_of and the common filters.
with outcomes as (
    select
        prior_sector,
        program_type,
        exited_on is not null and exited_on + 180 <= $as_of as is_observed_180d,
        placed_on is not null and placed_on <= exited_on + 180 as is_placed_180d
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
)
select
    prior_sector,
    program_type,
    count(*) as enrolled_count,
    count(*) filter (where is_observed_180d) as placement_rate_180d_n,
    count(*) filter (where is_observed_180d and is_placed_180d) as placed_180d_count
from outcomes
group by prior_sector, program_type
order by prior_sector, program_type
