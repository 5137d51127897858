-- How many enrollments match the filters, per programme type: whether a page has anything to
-- show, without computing its figures first (a count reads no outcome column).
-- Grain: one row per program_type present under the filters.
-- Key: program_type.
-- Parameters: $filters.
select
    program_type,
    count(*) as enrolled_count
from filtered_outcomes($filters)
group by program_type
order by program_type
