"""The exercise checkers, one module per notebook (``nb00`` ... ``nb08``); notebooks import them from here.

Every checker follows the contract of :func:`helpers.workshop.checks.common.verdict`: a blank answer prints what
to do and a hint and returns None (more help with ``hint=True``), a right one prints ``[OK]`` and returns
``PASSED``, a wrong one of any type raises :class:`ExerciseError` with a hint. The shared pieces (``checker``,
``as_number``, ``close_enough``, ``method_hint``, ...) live in :mod:`helpers.workshop.checks.common`.
"""

from helpers.workshop.checks.common import (
    PASSED,
    ExerciseError,
    as_int,
    as_number,
    checker,
    close_enough,
    is_blank,
    method_hint,
    pair_of_ints,
    verdict,
    wrong_shape,
)
from helpers.workshop.checks.nb00 import check_doctor_counts, check_vector_bytes
from helpers.workshop.checks.nb01 import (
    check_overlap_text,
    check_small_chunks,
    check_truncation_counts,
    overlap_text,
)
from helpers.workshop.checks.nb02 import (
    check_ir_sizes,
    check_leak_share,
    check_straddling,
    leak_share,
)
from helpers.workshop.checks.nb03 import (
    check_hard_negative_candidates,
    check_loss,
    check_negatives,
    check_peak_epoch,
)
from helpers.workshop.checks.nb04 import (
    check_query_ndcg,
    check_random_ndcg,
    check_worse_count,
    random_ndcg_at_10,
)
from helpers.workshop.checks.nb05 import (
    best_configs_within_budget,
    check_best_config_within_budget,
    check_dim_keeping_share,
    check_paired_difference_dims,
    configs_within_budget,
    dims_with_overlapping_bands,
    dims_with_paired_difference,
    mean_by_dim,
    smallest_dim_keeping,
)
from helpers.workshop.checks.nb06 import (
    check_accuracy_at_3_by_search,
    check_bm25_beats_fine_tuned,
    check_ranking_by_hand,
    figure_questions,
)
from helpers.workshop.checks.nb07 import (
    best_index_for_budget,
    check_funnel_prefix,
    check_index_budget,
    check_rescore_multiplier,
    funnel_shares,
    smallest_funnel_prefix,
    smallest_rescore_multiplier,
)
from helpers.workshop.checks.nb08 import check_constant_loss, check_out_of_reach, out_of_reach

__all__ = [
    "PASSED",
    "ExerciseError",
    "as_int",
    "as_number",
    "checker",
    "close_enough",
    "is_blank",
    "method_hint",
    "pair_of_ints",
    "verdict",
    "wrong_shape",
    "check_vector_bytes",
    "check_doctor_counts",
    "check_small_chunks",
    "overlap_text",
    "check_overlap_text",
    "check_truncation_counts",
    "check_leak_share",
    "check_straddling",
    "check_ir_sizes",
    "leak_share",
    "check_negatives",
    "check_hard_negative_candidates",
    "check_loss",
    "check_peak_epoch",
    "random_ndcg_at_10",
    "check_random_ndcg",
    "check_query_ndcg",
    "check_worse_count",
    "configs_within_budget",
    "best_configs_within_budget",
    "check_best_config_within_budget",
    "mean_by_dim",
    "smallest_dim_keeping",
    "check_dim_keeping_share",
    "dims_with_paired_difference",
    "dims_with_overlapping_bands",
    "check_paired_difference_dims",
    "check_ranking_by_hand",
    "check_bm25_beats_fine_tuned",
    "figure_questions",
    "check_accuracy_at_3_by_search",
    "best_index_for_budget",
    "check_funnel_prefix",
    "funnel_shares",
    "smallest_funnel_prefix",
    "check_index_budget",
    "smallest_rescore_multiplier",
    "check_rescore_multiplier",
    "check_constant_loss",
    "out_of_reach",
    "check_out_of_reach",
]
