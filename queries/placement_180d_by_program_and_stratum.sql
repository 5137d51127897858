-- Placement within 180 days of exit (the headline definition: is_followed_180d and
-- is_placed_180d, views/enrollment_outcomes.sql) per programme and stratum of who enrolled, for
-- direct standardisation and the balance table. A missing gender or education is its own level
-- 'unknown' (age_band is already 'unknown' without a birth year), so nobody drops out of the
-- adjustment for a blank field.
-- Grain: one row per program_type x age_band x gender x education x prior_sector x district.
-- Parameters: the common filters.
with outcomes as (
    select
        program_type,
        age_band,
        gender_level as gender,
        education_level as education,
        prior_sector,
        district,
        is_followed_180d,
        is_placed_180d
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
)
select
    program_type,
    age_band,
    gender,
    education,
    prior_sector,
    district,
    count(*) as enrolled_count,
    sum(is_followed_180d)::bigint as placement_rate_180d_n,
    sum(is_placed_180d)::bigint as placed_180d_count
from outcomes
group by program_type, age_band, gender, education, prior_sector, district
order by program_type, age_band, gender, education, prior_sector, district
