-- Who benefits: placement within 180 days of exit, retention at 12 months and the median wage of
-- the first job, per programme and level of each personal characteristic (age band, gender,
-- education), with the same definitions as headline_by_program.sql. One scan with grouping sets
-- (one set per characteristic) counts each enrollment once per characteristic, so the levels of
-- one characteristic add up to the programme's total, without unnesting every row into three
-- (10M enrollments on two busy cores: 8 s instead of 13 s; the wage lists cost 4-5 s of it).
-- A missing gender or education is its own level 'unknown' (gender_level, education_level in
-- views/enrollment_outcomes.sql; age_band is already 'unknown'
-- without a birth year).
-- The median wage comes with a distribution-free 95% interval: the order statistics at ranks
-- n/2 -/+ 1.96 * sqrt(n) / 2 of the sorted wages (Conover, Practical Nonparametric Statistics),
-- taken here so that no person-level wage leaves DuckDB.
-- The outcome flags and the wage of first jobs started by as_of are defined in
-- views/enrollment_outcomes.sql.
-- Grain: one row per program_type x characteristic x level present under the filters.
-- Parameters: the common filters.
with outcomes as (
    select
        program_type,
        age_band,
        gender_level as gender,
        education_level as education,
        is_followed_180d,
        is_placed_180d,
        is_followed_12m,
        is_retained_12m,
        monthly_wage_by_as_of as monthly_wage
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
),
counts_by_characteristic as (
    select
        program_type,
        case
            when grouping(age_band) = 0 then 'age_band'
            when grouping(gender) = 0 then 'gender'
            else 'education'
        end as characteristic,
        case
            when grouping(age_band) = 0 then age_band
            when grouping(gender) = 0 then gender
            else education
        end as level,
        count(*) as enrolled_count,
        sum(is_followed_180d)::bigint as placement_rate_180d_n,
        sum(is_placed_180d)::bigint as placed_180d_count,
        sum(is_followed_12m)::bigint as retention_12m_n,
        sum(is_retained_12m)::bigint as retained_12m_count,
        list_sort(list(monthly_wage) filter (where monthly_wage is not null)) as sorted_wages
    from outcomes
    group by grouping sets (
        (program_type, age_band),
        (program_type, gender),
        (program_type, education)
    )
)
select
    program_type,
    characteristic,
    level,
    enrolled_count,
    placement_rate_180d_n,
    placed_180d_count,
    retention_12m_n,
    retained_12m_count,
    coalesce(len(sorted_wages), 0) as median_monthly_wage_n,
    list_median(sorted_wages) as median_monthly_wage,
    sorted_wages[
        greatest(1, floor(len(sorted_wages) / 2 - 0.98 * sqrt(len(sorted_wages))))::integer
    ] as median_monthly_wage_low,
    sorted_wages[
        least(len(sorted_wages), ceil(1 + len(sorted_wages) / 2 + 0.98 * sqrt(len(sorted_wages))))::integer
    ] as median_monthly_wage_high
from counts_by_characteristic
order by program_type, characteristic, level
