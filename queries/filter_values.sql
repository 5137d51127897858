-- The values officials can filter on, from the whole extract (not the filtered view).
-- Grain: one row per filter x value.
-- Key: filter_name, value.
-- Parameters: none.
select
    'districts' as filter_name,
    district as value,
    count(*) as enrollment_count
from enrollments
group by district
union all
select
    'sectors' as filter_name,
    prior_sector as value,
    count(*) as enrollment_count
from enrollments
group by prior_sector
order by filter_name, value
