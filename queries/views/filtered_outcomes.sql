-- Table macro: enrollment_outcomes restricted to the common filter set, the one place the SQL
-- says what each filter means. Every question selects `from filtered_outcomes($filters)`;
-- $filters is one bound STRUCT (reemploy/filters.py, Filters.to_params) with a field per
-- filter, NULL meaning "no restriction" and an empty list matching nothing. A new filter is a
-- field there, a line here and its widget: no question changes.
create or replace macro filtered_outcomes(filters) as table
select *
from enrollment_outcomes
where ((filters).districts is null or list_contains((filters).districts, district))
  and ((filters).sectors is null or list_contains((filters).sectors, prior_sector))
  and ((filters).programs is null or list_contains((filters).programs, program_type))
  and ((filters).date_from is null or enrolled_on >= (filters).date_from)
  and ((filters).date_to is null or enrolled_on <= (filters).date_to)
  and ((filters).genders is null or list_contains((filters).genders, gender))
  and ((filters).age_bands is null or list_contains((filters).age_bands, age_band))
  and ((filters).educations is null or list_contains((filters).educations, education))
