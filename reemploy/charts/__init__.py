"""Figure builders, one module per question area: `<thing>_chart(df, ...) -> go.Figure`, one
colour per programme everywhere (reemploy.labels), the house look from charts.style.

The builders are re-exported here, so pages and the pack call `charts.<thing>_chart(...)`.
"""

from reemploy.charts.compare import (adjusted_difference_chart, balance_chart, employer_mix_chart,
                                     placement_difference_chart, placement_horizon_chart,
                                     reemployment_curve_chart, wage_chart)
from reemploy.charts.districts import district_gap_chart, district_map_chart, district_ranked_chart
from reemploy.charts.sectors import (prior_sector_placement_chart, sector_flow_chart,
                                     sector_flow_table, sector_heatmap_chart)
from reemploy.charts.trends import cohort_enrollment_chart, cohort_outcome_chart, placement_trend_chart
from reemploy.charts.who_benefits import outcomes_by_characteristic_chart

__all__ = [
    "adjusted_difference_chart",
    "balance_chart",
    "cohort_enrollment_chart",
    "cohort_outcome_chart",
    "district_gap_chart",
    "district_map_chart",
    "district_ranked_chart",
    "employer_mix_chart",
    "outcomes_by_characteristic_chart",
    "placement_difference_chart",
    "placement_horizon_chart",
    "placement_trend_chart",
    "prior_sector_placement_chart",
    "reemployment_curve_chart",
    "sector_flow_chart",
    "sector_flow_table",
    "sector_heatmap_chart",
    "wage_chart",
]
