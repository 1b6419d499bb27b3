"""int8 is scored as a deployed index scores it: decoded corpus codes against float queries."""

from __future__ import annotations

import numpy as np
import pytest
from sentence_transformers import quantize_embeddings

from helpers.config import get_profile, matryoshka_dims
from helpers.data.dataset import ir_split, limit_splits, split_questions
from helpers.evaluation.metrics import dequantize_int8, encode_ir, int8_ranges, quantized_metrics


def test_decoding_reproduces_floats_within_one_step():
    rng = np.random.default_rng(0)
    calibration = rng.normal(0, 0.1, size=(500, 48)).astype(np.float32)
    calibration[:, 5] = 0.25  # a constant dim: the library's step becomes 1
    ranges = int8_ranges(calibration)
    codes = quantize_embeddings(calibration, precision="int8", calibration_embeddings=calibration)
    assert codes.dtype == np.int8
    assert np.array_equal(codes, quantize_embeddings(calibration, precision="int8", ranges=ranges))
    decoded = dequantize_int8(codes, ranges)
    step = (ranges[1] - ranges[0]) / 255
    step = np.where(step == 0, 1, step)
    error = calibration - decoded  # decoding gives the lower edge of the value's bucket
    assert decoded.dtype == np.float32
    assert (error >= -1e-6).all() and (error <= step + 1e-6).all()
    assert np.allclose(decoded[:, 5], 0.25)
    # a value outside the calibration range is clipped to the nearest end
    outside = np.full((1, 48), 10.0, dtype=np.float32)
    top = dequantize_int8(quantize_embeddings(outside, precision="int8", ranges=ranges), ranges)
    assert np.allclose(top[0, np.arange(48) != 5], ranges[1, np.arange(48) != 5], atol=1e-5)


@pytest.fixture(scope="module")
def default_test_ir(course_data):
    """The whole test set of the default profile (chunks split), as notebook 02 writes it."""
    profile = get_profile("default")
    splits = split_questions(course_data, profile.split_regime, profile.val_fraction, profile.test_fraction,
                             profile.seed)
    return ir_split(course_data, limit_splits(splits, profile)["test"])


def test_int8_scores_like_float32_at_every_dim(bundled_model, default_test_ir):
    enc = encode_ir(bundled_model, default_test_ir)
    dims = matryoshka_dims(enc.queries.shape[1])
    quant = quantized_metrics(enc, default_test_ir["relevant_docs"], dims, "base")
    table = quant.pivot(index="dim", columns="precision", values="ndcg@10")
    assert sorted(table.index) == sorted(dims)
    gap = (table["int8"] - table["float32"]).abs()
    assert (gap < 0.01).all(), table.round(4).to_string()
    assert (table["binary"] < table["float32"]).all()  # one bit per dim does lose something
    assert set(quant.bytes[quant.precision == "int8"]) == set(dims)
