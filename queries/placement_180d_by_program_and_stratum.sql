-- Placement within 180 days of exit (the headline definition: is_followed_180d and
-- is_placed_180d, views/enrollment_outcomes.sql) per programme and stratum of who enrolled, for
-- direct standardisation and the balance table. A missing gender or education is its own level
-- 'unknown' (age_band is already 'unknown' without a birth year), so nobody drops out of the
-- adjustment for a blank field.
-- The stratum is its number (views/enrollment_outcomes.sql); stratum_labels.sql names it: one
-- integer per row instead of five texts, grouped here and sent to pandas.
-- Grain: one row per program_type x stratum present under the filters.
-- Key: program_type, stratum.
-- Parameters: $filters.
select
    program_type,
    stratum,
    count(*) as enrolled_count,
    sum(is_followed_180d)::bigint as placement_rate_180d_n,
    sum(is_placed_180d)::bigint as placed_180d_count
from filtered_outcomes($filters)
group by program_type, stratum
order by program_type, stratum
