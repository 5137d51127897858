-- Headline figures per programme type (see data/README.md, Metrics): counts and the numerators
-- and denominators of every rate; medians of first-placement wages.
-- Grain: one row per program_type present under the filters.
-- Parameters: $as_of, and the common filters $districts, $sectors, $programs, $date_from,
-- $date_to, $genders, $age_bands, $educations (NULL = no restriction).
with outcomes as (
    select
        *,
        exited_on is not null and exited_on <= $as_of as is_exited,
        exited_on is not null and exited_on + 180 <= $as_of as is_observed_180d,
        placed_on is not null and placed_on + 365 <= $as_of as is_observed_12m
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
)
select
    program_type,
    count(*) as enrolled_count,
    count(*) filter (where is_exited) as exited_count,
    count(*) filter (where is_exited and completed is not null) as completion_rate_n,
    count(*) filter (where is_exited and completed) as completed_count,
    count(*) filter (where is_observed_180d) as placement_rate_180d_n,
    count(*) filter (
        where is_observed_180d and placed_on <= exited_on + 180
    ) as placed_180d_count,
    count(*) filter (where is_observed_12m) as retention_12m_n,
    count(*) filter (
        where is_observed_12m
          and (placement_ended_on is null or placement_ended_on >= placed_on + 365)
    ) as retained_12m_count,
    count(placement_monthly_wage) filter (where placed_on <= $as_of) as median_monthly_wage_n,
    median(placement_monthly_wage) filter (where placed_on <= $as_of) as median_monthly_wage,
    count(*) filter (
        where placed_on <= $as_of and placement_monthly_wage is not null and prior_monthly_wage > 0
    ) as median_wage_replacement_n,
    median(placement_monthly_wage / prior_monthly_wage) filter (
        where placed_on <= $as_of and placement_monthly_wage is not null and prior_monthly_wage > 0
    ) as median_wage_replacement,
    coalesce(sum(cost) filter (where is_observed_180d), 0) as cost_observed_180d
from outcomes
group by program_type
order by program_type
