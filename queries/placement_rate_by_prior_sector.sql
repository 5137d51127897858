-- Which prior sectors (the sector of the job people lost) does each programme serve best?
-- Placement within 180 days of exit per prior sector and programme (flags from
-- views/enrollment_outcomes.sql).
-- Grain: one row per prior_sector x program_type present under the filters.
-- Key: prior_sector, program_type.
-- Parameters: $filters.
select
    prior_sector,
    program_type,
    count(*) as enrolled_count,
    sum(is_followed_180d)::bigint as placement_rate_180d_n,
    sum(is_placed_180d)::bigint as placed_180d_count
from filtered_outcomes($filters)
group by prior_sector, program_type
order by prior_sector, program_type
