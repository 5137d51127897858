-- How does placement within 180 days of exit, and the first-job wage, differ between districts
-- and programmes? Feeds the district map and the skills-minus-mindset gap per district.
-- Grain: one row per district x program_type present under the filters.
-- Parameters: $as_of and the common filters $districts, $sectors, $programs, $date_from,
-- $date_to, $genders, $age_bands, $educations (NULL = no restriction).
with outcomes as (
    select
        district,
        program_type,
        exited_on is not null and exited_on + 180 <= $as_of as is_observed_180d,
        placed_on is not null and placed_on <= exited_on + 180 as is_placed_180d,
        placed_on is not null and placed_on <= $as_of as is_placed,
        placement_monthly_wage
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
)
select
    district,
    program_type,
    count(*) as enrolled_count,
    count(*) filter (where is_observed_180d) as placement_rate_180d_n,
    count(*) filter (where is_observed_180d and is_placed_180d) as placed_180d_count,
    count(placement_monthly_wage) filter (where is_placed) as median_monthly_wage_n,
    median(placement_monthly_wage) filter (where is_placed) as median_monthly_wage
from outcomes
group by district, program_type
order by district, program_type
