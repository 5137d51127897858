-- Headline figures per programme type (data/README.md, Metrics), for the Overview, Compare's
-- programme profile, the pack and `summary`: counts and the numerators and denominators of every
-- rate, and the first-job wage and wage replacement distributions, in one pass. The outcome
-- flags (exited, followed 180 days, placed within 180 days, retained at 6 and 12 months...) are
-- defined once in views/enrollment_outcomes.sql, relative to the extract's as_of.
-- Quantiles: linear interpolation (quantile_cont) of the wages and replacement ratios of first
-- jobs started by as_of, computed here so that no person-level row leaves DuckDB; the 0.50
-- quantile is the median. One sort per column for all its fractions.
-- Grain: one row per program_type present under the filters.
-- Key: program_type.
-- Parameters: $filters.
with sums as (
    select
        program_type,
        count(*) as enrolled_count,
        sum(is_exited)::bigint as exited_count,
        sum(is_completion_recorded)::bigint as completion_rate_n,
        sum(is_completed)::bigint as completed_count,
        sum(is_followed_180d)::bigint as placement_rate_180d_n,
        sum(is_placed_180d)::bigint as placed_180d_count,
        sum(is_followed_6m)::bigint as retention_6m_n,
        sum(is_retained_6m)::bigint as retained_6m_count,
        sum(is_followed_12m)::bigint as retention_12m_n,
        sum(is_retained_12m)::bigint as retained_12m_count,
        count(monthly_wage_by_as_of) as monthly_wage_n,
        quantile_cont(monthly_wage_by_as_of, [0.10, 0.25, 0.50, 0.75, 0.90]) as wage_q,
        count(wage_replacement_by_as_of) as wage_replacement_n,
        quantile_cont(wage_replacement_by_as_of, [0.25, 0.50, 0.75]) as replacement_q,
        coalesce(sum(cost_followed_180d), 0) as cost_observed_180d,
        sum(is_followed_180d_from_enrollment)::bigint as placement_rate_180d_from_enrollment_n,
        sum(is_placed_180d_from_enrollment)::bigint as placed_180d_from_enrollment_count,
        sum(is_followed_q2_after_exit)::bigint as employment_rate_q2_after_exit_n,
        sum(is_employed_q2_after_exit)::bigint as employed_q2_after_exit_count,
        sum(is_followed_q4_after_exit)::bigint as employment_rate_q4_after_exit_n,
        sum(is_employed_q4_after_exit)::bigint as employed_q4_after_exit_count,
        sum(is_repeat_enrollment)::bigint as repeat_enrollment_count,
        sum(is_enrolled_while_employed)::bigint as enrolled_while_employed_count,
        sum(is_exit_unrecorded)::bigint as exit_unrecorded_count,
        (count(*) - sum(is_exited))::bigint as not_exited_count,
        sum(is_followed_180d_not_counted)::bigint as followed_180d_not_counted_count,
        min(observed_before_180d) as observed_before_180d,
        min(observed_before_182d) as observed_before_182d,
        min(observed_before_365d) as observed_before_365d
    from filtered_outcomes($filters)
    group by program_type
)
select
    program_type,
    enrolled_count,
    exited_count,
    completion_rate_n,
    completed_count,
    placement_rate_180d_n,
    placed_180d_count,
    retention_6m_n,
    retained_6m_count,
    retention_12m_n,
    retained_12m_count,
    monthly_wage_n as median_monthly_wage_n,
    wage_q[3] as median_monthly_wage,
    wage_replacement_n as median_wage_replacement_n,
    replacement_q[2] as median_wage_replacement,
    cost_observed_180d,
    placement_rate_180d_from_enrollment_n,
    placed_180d_from_enrollment_count,
    employment_rate_q2_after_exit_n,
    employed_q2_after_exit_count,
    employment_rate_q4_after_exit_n,
    employed_q4_after_exit_count,
    repeat_enrollment_count,
    enrolled_while_employed_count,
    exit_unrecorded_count,
    not_exited_count,
    followed_180d_not_counted_count,
    observed_before_180d,
    observed_before_182d,
    observed_before_365d,
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
from sums
order by program_type
