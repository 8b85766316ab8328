"""Statewise dataset builder: an export -> supervised v0 training and held-out sets.

Modules by role: ``intents`` (what a command asks, entity resolution),
``policy`` (the teacher's decision table, reused by the evaluator),
``simulate`` (effects of v0 actions on state), ``phrases`` (plain-text
answers), ``templates`` (hassil + own sentence templates), ``states``
(state variations), ``generate`` (draws example units for one split:
``homes``, ``values``, ``naming``, ``speech``, ``rows``/``labelbook``),
``families`` (every example family, in one table; ``phrasings`` adds
issue 18's), ``build`` (balancing,
plan checks, held-out split, atomic write), ``budget`` and ``tokens`` (Qwen3
token counts), ``stats``/``card``/``plots`` (reports), ``pipeline`` (the
whole build), ``cli`` (``python -m dataset_export``).
"""
