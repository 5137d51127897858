-- Placement within 180 days of exit (the headline definition: is_followed_180d and
-- is_placed_180d, views/enrollment_outcomes.sql) per programme and stratum of who enrolled, for
-- direct standardisation and the balance table. A missing gender or education is its own level
-- 'unknown' (age_band is already 'unknown' without a birth year), so nobody drops out of the
-- adjustment for a blank field.
-- The counts are grouped by the stratum number (views/enrollment_outcomes.sql) and labelled from
-- outcome_strata afterwards: grouping by one integer instead of five texts.
-- Grain: one row per program_type x age_band x gender x education x prior_sector x district.
-- Parameters: the common filters.
with counts as (
    select
        program_type,
        stratum,
        count(*) as enrolled_count,
        sum(is_followed_180d)::bigint as placement_rate_180d_n,
        sum(is_placed_180d)::bigint as placed_180d_count
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
    group by program_type, stratum
)
select
    c.program_type,
    s.age_band,
    s.gender_level as gender,
    s.education_level as education,
    s.prior_sector,
    s.district,
    c.enrolled_count,
    c.placement_rate_180d_n,
    c.placed_180d_count
from counts as c
join outcome_strata as s
    on s.stratum = c.stratum
order by c.program_type, s.age_band, s.gender_level, s.education_level, s.prior_sector, s.district
