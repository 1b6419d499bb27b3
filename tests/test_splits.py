"""Split regimes: seeded, disjoint, and free of chunk leakage in the held-out chunk regime."""

from __future__ import annotations

from helpers.data.dataset import chunk_groups, ir_split, split_questions, training_pairs


def test_held_out_chunks_never_trains_on_test_chunks(course_data):
    splits = split_questions(course_data, "chunks", 0.15, 0.2, seed=7)
    assert sum(len(v) for v in splits.values()) == len(course_data.questions)
    chunks_of = {s: {c for q in qids for c in course_data.relevant[q]} for s, qids in splits.items()}
    assert not chunks_of["test"] & chunks_of["train"]
    assert not chunks_of["val"] & chunks_of["train"]
    assert 0.15 < len(splits["test"]) / len(course_data.questions) < 0.3


def test_held_out_questions_splits_questions(course_data):
    splits = split_questions(course_data, "questions", 0.15, 0.2, seed=7)
    ids = [q for qids in splits.values() for q in qids]
    assert len(ids) == len(set(ids)) == len(course_data.questions)
    # Unlike the chunk regime, test questions here usually ask about chunks that are also trained on.
    train_chunks = {c for q in splits["train"] for c in course_data.relevant[q]}
    shared = sum(course_data.relevant[q][0] in train_chunks for q in splits["test"])
    assert shared > len(splits["test"]) / 2


def test_splits_are_seeded(course_data):
    for regime in ("chunks", "questions"):
        assert split_questions(course_data, regime, 0.15, 0.2, 1) == split_questions(course_data, regime, 0.15, 0.2, 1)
        assert split_questions(course_data, regime, 0.15, 0.2, 1) != split_questions(course_data, regime, 0.15, 0.2, 2)


def test_pairs_and_ir_shapes(course_data):
    qids = sorted(course_data.relevant)[:5]
    pairs = training_pairs(course_data, qids)
    assert list(pairs[0])[:2] == ["anchor", "positive"]  # MNRL reads anchor first
    for q, pair in zip(qids, pairs):  # mining never picks a chunk that answers the question or holds its evidence
        assert pair["positive_id"] == course_data.relevant[q][0]
        assert set(course_data.relevant[q]) <= set(pair["answer_ids"])
        assert set(course_data.touching[q]) <= set(pair["answer_ids"])
    whole = ir_split(course_data, qids)
    assert len(whole["corpus"]) == len(course_data.chunks)
    small = ir_split(course_data, qids, protocol="test-chunks-only")
    assert set(small["corpus"]) == {c for q in qids for c in course_data.relevant[q]}


def test_every_passage_of_a_question_is_relevant_and_grouped(course_data):
    multi = [q for q in course_data.questions if q.also]
    assert multi, "the shipped questions list facts stated twice (issue 11)"
    by_chunk = {c.id: c.document for c in course_data.chunks}
    for q in multi:
        documents = {by_chunk[c] for c in course_data.relevant[q.id]}
        assert {d for d, _ in q.passages} <= documents
    # chunks that share a question land in one group, so no question straddles two splits
    groups = {cid: i for i, group in enumerate(chunk_groups([c.id for c in course_data.chunks], course_data.relevant))
              for cid in group}
    for q in multi:
        assert len({groups[c] for c in course_data.relevant[q.id]}) == 1
