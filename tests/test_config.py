from __future__ import annotations

import pytest

from helpers.config import get_profile, matryoshka_dims


def test_dims_derive_from_the_model():
    assert matryoshka_dims(384) == [384, 256, 128, 64, 32]
    assert matryoshka_dims(1024) == [1024, 768, 512, 256, 128, 64]
    assert matryoshka_dims(768) == [768, 512, 256, 128, 64, 32]


def test_profiles_and_overrides(monkeypatch):
    monkeypatch.setenv("LAB_PROFILE", "smoke")
    monkeypatch.setenv("LAB_SPLIT", "questions")
    profile = get_profile()
    assert (profile.name, profile.split_regime, profile.epochs) == ("smoke", "questions", 1)
    full = get_profile("full")
    assert (full.model, full.batch_size, full.epochs, full.learning_rate) == (
        "Snowflake/snowflake-arctic-embed-l", 10, 10, 5e-5)
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        get_profile("huge")
    monkeypatch.setenv("LAB_SPLIT", "random")
    with pytest.raises(ValueError, match="split_regime 'random'"):
        get_profile()
