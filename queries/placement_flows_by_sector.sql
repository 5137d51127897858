-- Where do people go from the sector of the job they lost? First placements (started on or
-- before as_of: is_placed_by_as_of) by prior sector, the new job's sector and its employer type,
-- per programme: the flows of the sector Sankey. Small flows are folded in reemploy/metrics.py,
-- not here.
-- Grain: one row per program_type x prior_sector x placement_sector x placement_employer_type
-- with at least one first placement.
-- Key: program_type, prior_sector, placement_sector, placement_employer_type.
-- Parameters: $filters.
select
    program_type,
    prior_sector,
    placement_sector,
    placement_employer_type,
    count(*) as placement_count
from filtered_outcomes($filters)
where is_placed_by_as_of = 1
group by program_type, prior_sector, placement_sector, placement_employer_type
order by program_type, prior_sector, placement_sector, placement_employer_type
