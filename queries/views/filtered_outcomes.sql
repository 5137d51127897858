-- Table macro: enrollment_outcomes restricted to the common filter set. Every question selects
-- from it with the filters as bound parameters; a NULL argument means "no restriction".
create or replace macro filtered_outcomes(
    districts,
    sectors,
    programs,
    date_from,
    date_to,
    genders,
    age_bands,
    educations
) as table
select *
from enrollment_outcomes
where (districts is null or list_contains(districts, district))
  and (sectors is null or list_contains(sectors, prior_sector))
  and (programs is null or list_contains(programs, program_type))
  and (date_from is null or enrolled_on >= date_from)
  and (date_to is null or enrolled_on <= date_to)
  and (genders is null or list_contains(genders, gender))
  and (age_bands is null or list_contains(age_bands, age_band))
  and (educations is null or list_contains(educations, education))
