-- How does placement within 180 days of exit, and the first-job wage, differ between districts
-- and programmes? Feeds the district map and the skills-minus-mindset gap per district.
-- Flags and the wage of first jobs started by as_of come from views/enrollment_outcomes.sql.
-- Grain: one row per district x program_type present under the filters.
-- Key: district, program_type.
-- Parameters: $filters.
select
    district,
    program_type,
    count(*) as enrolled_count,
    sum(is_followed_180d)::bigint as placement_rate_180d_n,
    sum(is_placed_180d)::bigint as placed_180d_count,
    count(monthly_wage_by_as_of) as median_monthly_wage_n,
    median(monthly_wage_by_as_of) as median_monthly_wage
from filtered_outcomes($filters)
group by district, program_type
order by district, program_type
