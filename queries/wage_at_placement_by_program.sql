-- Distribution of the monthly wage at the first job and of the wage replacement ratio
-- (placement wage / prior_monthly_wage), as quantiles computed here so no person-level row
-- leaves DuckDB. quantile_cont(x, 0.5) is the median() the headline uses.
-- Grain: one row per program_type with at least one first job by $as_of.
-- Parameters: $as_of and the common filters.
with first_jobs as (
    select
        program_type,
        placement_monthly_wage as monthly_wage,
        case
            when prior_monthly_wage > 0 then placement_monthly_wage / prior_monthly_wage
        end as wage_replacement
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
    where placed_on <= $as_of
      and placement_monthly_wage is not null
)
select
    program_type,
    count(monthly_wage) as monthly_wage_n,
    quantile_cont(monthly_wage, 0.10) as monthly_wage_p10,
    quantile_cont(monthly_wage, 0.25) as monthly_wage_p25,
    quantile_cont(monthly_wage, 0.50) as monthly_wage_p50,
    quantile_cont(monthly_wage, 0.75) as monthly_wage_p75,
    quantile_cont(monthly_wage, 0.90) as monthly_wage_p90,
    count(wage_replacement) as wage_replacement_n,
    quantile_cont(wage_replacement, 0.25) as wage_replacement_p25,
    quantile_cont(wage_replacement, 0.50) as wage_replacement_p50,
    quantile_cont(wage_replacement, 0.75) as wage_replacement_p75
from first_jobs
group by program_type
order by program_type
