-- Placement within 180 days of exit (the headline definition: is_followed_180d and
-- is_placed_180d, views/enrollment_outcomes.sql) per programme and stratum of who enrolled, for
-- direct standardisation and the balance table. A missing gender or education is its own level
-- 'unknown' (age_band is already 'unknown' without a birth year), so nobody drops out of the
-- adjustment for a blank field.
-- The stratum is its number (views/enrollment_outcomes.sql); stratum_labels.sql names it. One
-- integer instead of five texts per row, grouped here and sent to pandas (1M enrollments,
-- unfiltered, with the adjusted difference and the balance table: 53 ms instead of 78 ms).
-- Grain: one row per program_type x stratum present under the filters.
-- Parameters: the common filters.
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
order by program_type, stratum
