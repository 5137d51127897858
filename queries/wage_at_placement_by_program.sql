-- Distribution of the monthly wage at the first job and of the wage replacement ratio
-- (placement wage / prior_monthly_wage), as quantiles computed here so no person-level row
-- leaves DuckDB. quantile_cont(x, 0.5) is the median() the headline uses. Both values are taken
-- for first jobs started by as_of (views/enrollment_outcomes.sql).
-- Grain: one row per program_type with at least one first job by as_of.
-- Parameters: the common filters.
with quantiles as (
    select
        program_type,
        count(monthly_wage_by_as_of) as monthly_wage_n,
        -- One sort per column for all its quantiles (same interpolation as one call each).
        quantile_cont(monthly_wage_by_as_of, [0.10, 0.25, 0.50, 0.75, 0.90]) as wage_q,
        count(wage_replacement_by_as_of) as wage_replacement_n,
        quantile_cont(wage_replacement_by_as_of, [0.25, 0.50, 0.75]) as replacement_q
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
    where monthly_wage_by_as_of is not null
    group by program_type
)
select
    program_type,
    monthly_wage_n,
    wage_q[1] as monthly_wage_p10,
    wage_q[2] as monthly_wage_p25,
    wage_q[3] as monthly_wage_p50,
    wage_q[4] as monthly_wage_p75,
    wage_q[5] as monthly_wage_p90,
    wage_replacement_n,
    replacement_q[1] as wage_replacement_p25,
    replacement_q[2] as wage_replacement_p50,
    replacement_q[3] as wage_replacement_p75
from quantiles
order by program_type
