"""Readouts as whole sentences in English and Simplified Chinese; definitions and labels read in
the language of the run."""

from __future__ import annotations

import pandas as pd

from reemploy import definitions, i18n, labels, readouts, tables


def gaps(characteristic, rows, measure="placement_rate_180d"):
    return pd.DataFrame([dict(characteristic=characteristic, level=level, measure=measure, gap=g,
                              gap_low=lo, gap_high=hi) for level, g, lo, hi in rows])


def test_a_characteristic_sentence_in_both_languages():
    df = gaps("age_band", [("16-29", -0.01, -0.02, -0.001), ("50+", -0.10, -0.13, -0.07)])
    assert readouts.characteristic_sentence(df, "age_band") == (
        "By age: Mindset training's advantage in placement within 180 days of exit is largest "
        "for 50+ (+10.0 pp), clearly more than for 16-29 (+1.0 pp).")
    with i18n.using("zh"):
        assert readouts.characteristic_sentence(df, "age_band") == (
            "按年龄：观念培训在培训结束后180天内再就业率上的优势以50岁及以上最大（+10.0个百分点），"
            "明显大于16–29岁（+1.0个百分点）。")


def test_the_logrank_test_is_said_in_words_and_its_statistic_only_for_analysts():
    test = pd.DataFrame([{"logrank_chi2": 404.2, "logrank_p_value": 1e-9,
                          "logrank_chi2_suppressed": False}])
    sentence = readouts.logrank_sentence(test)
    assert sentence == ("The skills training and mindset training curves differ by more than "
                        "chance would explain.")
    assert "χ²" not in sentence and "df" not in sentence
    assert readouts.logrank_note(test) == ("For analysts: log-rank test, χ² = 404.2 with 1 "
                                           "degree of freedom, p < 0.001.")
    same = test.assign(logrank_p_value=0.4)
    with i18n.using("zh"):
        assert readouts.logrank_sentence(same).startswith("数据无法区分技能培训与观念培训的曲线")


def test_definitions_speak_plain_words_and_keep_codes_for_analysts():
    for key in definitions.METRICS:
        d = definitions.definition(key)
        page_text = " ".join([d.label, d.definition, d.denominator, *d.caveats])
        for code in ("as_of", "enrolled_on", "exited_on", "started_on", "ended_on", ".sql",
                     "REEMPLOY_", "WIOA", "monthly_wage"):
            assert code not in page_text, (key, code)
    markdown = definitions.metric_markdown("placement_rate_180d")
    body, analysts = markdown.split("\n\n*For analysts:* ")
    assert "WIOA" in analysts and "`queries/headline_by_program.sql`" in analysts
    assert "WIOA" not in body and ".sql" not in body
    for key in definitions.METHODS:
        assert "REEMPLOY_" not in definitions.METHODS[key].text


def test_definitions_and_labels_read_in_chinese():
    with i18n.using("zh"):
        assert definitions.metric_label("placement_rate_180d") == "培训结束后180天内再就业"
        assert definitions.definition("completion_rate").label == "完成培训"
        assert definitions.METHODS["unreliable"].label == "少于30人时不可靠"
        assert definitions.metric_markdown("enrolled_count").startswith("**参训人次**。")
        assert labels.program_label("mindset") == "观念培训"
        assert labels.level_label("education", "junior_secondary") == "初中"
        assert labels.level_label("gender", "unknown") == "未记录"
        assert labels.employer_label("self_employed") == "自谋职业"
        assert labels.flow_column_titles()[1] == "新就业行业"
    assert definitions.metric_label("placement_rate_180d") == "Placed within 180 days of exit"
    assert labels.program_label("mindset") == "Mindset training"


def test_tables_keep_n_with_its_number_and_translate_headers():
    differences = pd.DataFrame([{
        "measure": "placement_rate_180d", "estimate": "raw", "skills_rate": 0.6, "skills_n": 1234,
        "mindset_rate": 0.5, "mindset_n": 987, "difference": 0.1, "difference_low": 0.05,
        "difference_high": 0.15, "difference_suppressed": False, "reason": None,
        "excluded_share": 0.0}])
    table = tables.program_differences_table(differences, 10)
    row = table.iloc[0]
    assert row["Skills training"] == "60.0%, n\u00a0=\u00a01,234"
    assert row["Skills minus mindset (95% CI)"] == "+10.0 pp (95% CI +5.0 to +15.0 pp)"
    assert row["Reading"] == "skills ahead"
    with i18n.using("zh"):
        table = tables.program_differences_table(differences, 10)
    assert list(table.columns)[:3] == ["指标", "技能培训减观念培训（95%置信区间）", "解读"]
    assert table.iloc[0]["技能培训减观念培训（95%置信区间）"] == \
        "+10.0个百分点（95%置信区间 +5.0至+15.0个百分点）"
