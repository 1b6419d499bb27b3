from __future__ import annotations

from helpers.check import check_memory_budget, check_negatives, check_random_ndcg, random_ndcg_at_10


def test_checkers_accept_right_and_hint_on_wrong(capsys):
    assert check_negatives(15)
    assert not check_negatives(63)
    assert "micro-batch" in capsys.readouterr().out
    assert check_random_ndcg(random_ndcg_at_10(12), 12)
    assert not check_random_ndcg(0.1, 12)
    assert "[TRY AGAIN]" in capsys.readouterr().out
    assert check_memory_budget(10_000_000, 64, "int8", 2**30)
    assert not check_memory_budget(10_000_000, 384, "float32", 2**30)
    assert "try fewer dims" in capsys.readouterr().out
