"""Reference data of the warehouse, written as dbt seeds by a reproducible generator.

``python -m planwh.reference.build_seeds`` writes ``dbt_project/seeds/ref_*.csv``: the 63 legacy
and 34 current provinces and the 2025 merger mapping (from the ``vietnamadminunits`` and
``vietnam-provinces`` packages, never typed by hand), and the catalogues of Decision
1079/QĐ-TTg (indicators, targets, plan tasks, measures, trainee categories, languages, agency
kinds, reporting calendar) transcribed from the Vietnamese source documents.
"""
