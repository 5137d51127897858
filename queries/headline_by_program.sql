-- Headline figures per programme type (see data/README.md, Metrics): counts and the numerators
-- and denominators of every rate; medians of first-placement wages. The outcome flags (exited,
-- followed 180 days, placed within 180 days, retained at 12 months...) are defined once in
-- views/enrollment_outcomes.sql, relative to the extract's as_of.
-- Grain: one row per program_type present under the filters.
-- Parameters: the common filters $districts, $sectors, $programs, $date_from, $date_to,
-- $genders, $age_bands, $educations (NULL = no restriction).
select
    program_type,
    count(*) as enrolled_count,
    sum(is_exited)::bigint as exited_count,
    sum(is_completion_recorded)::bigint as completion_rate_n,
    sum(is_completed)::bigint as completed_count,
    sum(is_followed_180d)::bigint as placement_rate_180d_n,
    sum(is_placed_180d)::bigint as placed_180d_count,
    sum(is_followed_12m)::bigint as retention_12m_n,
    sum(is_retained_12m)::bigint as retained_12m_count,
    count(monthly_wage_by_as_of) as median_monthly_wage_n,
    median(monthly_wage_by_as_of) as median_monthly_wage,
    count(wage_replacement_by_as_of) as median_wage_replacement_n,
    median(wage_replacement_by_as_of) as median_wage_replacement,
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
from filtered_outcomes(
    $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
)
group by program_type
order by program_type
