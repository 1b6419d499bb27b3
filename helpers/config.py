"""One place for every setting: frozen profiles chosen by the ``LAB_PROFILE`` variable.

- ``smoke``: CI-sized; the bundled model, a small subset, one epoch (a couple of minutes).
- ``default``: offline; the bundled all-MiniLM-L6-v2, the whole ``data/`` set, in-batch negatives, one epoch at
  batch 16 (at least 32 optimizer steps on a small set), CPU or GPU.
- ``full``: Snowflake/snowflake-arctic-embed-l from the Hugging Face hub with the published
  recipe (batch 10, 10 epochs, lr 5e-5) plus its corrections (full dim in the Matryoshka
  dims, query prompt in training, no duplicate positives in a batch, bf16 on GPU).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
CORPUS_DIR = DATA / "corpus"
QUESTIONS_DIR = DATA / "questions"

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
ARCTIC_MODEL = "Snowflake/snowflake-arctic-embed-l"
PROFILE_ENV = "LAB_PROFILE"
SPLIT_REGIMES = ("chunks", "questions")
HARD_NEGATIVES_ENV = "LAB_HARD_NEGATIVES"
RECIPE_ENV = "LAB_RECIPE"
DIM_WEIGHTS = ("equal", "small-heavy")


@dataclass(frozen=True)
class Profile:
    """Everything one run of the course depends on."""

    name: str
    model: str
    epochs: int
    batch_size: int
    learning_rate: float
    warmup_ratio: float = 0.1
    max_seq_length: int | None = None  # None keeps the model's own limit
    chunk_size: int = 750
    chunk_overlap: int = 20
    split_regime: str = "chunks"  # "chunks": test chunks never trained on; "questions": new questions
    val_fraction: float = 0.15
    test_fraction: float = 0.2
    max_train_pairs: int | None = None  # subset for quick runs
    max_eval_questions: int | None = None
    loss: str = "mnrl"  # "mnrl" or "cached_mnrl" (large effective batches on GPU)
    hard_negatives: int = 0  # mined hard negatives per pair (notebook 03); 0 = in-batch negatives only
    ict_pairs: bool = False  # add one Inverse Cloze Task pair per training chunk
    dim_weights: str = "equal"  # MatryoshkaLoss weights: "equal", or "small-heavy" (1 at full size up to 2 at the smallest)
    mini_batch_size: int = 32  # for cached_mnrl: sequences encoded with gradients at once (memory, not the result)
    min_steps: int = 0  # more epochs when a small set gives fewer optimizer steps than this (0: the epochs as set)
    bf16_on_gpu: bool = True
    seed: int = 42

    @property
    def outputs(self) -> Path:
        """Folder for everything this profile produces (git-ignored); one per split regime."""
        base = Path(os.environ.get("LAB_OUTPUTS", ROOT / "outputs"))
        return base / (self.name if self.split_regime == "chunks" else f"{self.name}-{self.split_regime}")


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke", model=BUNDLED_MODEL, epochs=1, batch_size=16, learning_rate=2e-5,
        max_seq_length=128, max_train_pairs=64, max_eval_questions=30, hard_negatives=1,
    ),
    # Chosen by `python -m helpers study`'s cost rule (docs/results.md, "Choosing the recipe: the cost rule"): the cheapest
    # recipe within 4 GiB whose val ndcg@10 is within noise of the best and beats the base model at 64 and 32 dims
    # (the grid's `lr1e-4-e1`: in-batch negatives only). LAB_RECIPE=hn1-lr1e-4-b32-e1 is the default before the
    # rule (a mined negative, batch 32: about 7 GiB); LAB_RECIPE=current the recipe before any study.
    # min_steps: a set of ~100 pairs still gets 32 optimizer steps (the course's own 516 pairs make 33 an epoch).
    "default": Profile(
        name="default", model=BUNDLED_MODEL, epochs=1, batch_size=16, learning_rate=1e-4, min_steps=32,
    ),
    "full": Profile(
        name="full", model=ARCTIC_MODEL, epochs=10, batch_size=10, learning_rate=5e-5,
    ),
}


# Peak kernel memory of `python -m helpers course` (notebooks 01-05) per recipe, in GiB, as measured on the
# reference machine (2 CPU cores; README "Time and memory"); the key is LAB_RECIPE's name, or the profile's own
# name for its own recipe. `doctor` and notebook 00 compare free memory with it. LOWER_MEMORY names the switch that
# lowers it, with that recipe's own measured peak.
MEASURED_PEAK_GIB: dict[str, float] = {
    "default": 2.6,  # notebook 03's kernel, 2026-12-02 (its three trainings; 04-05 peaked lower in earlier runs)
    "smoke": 2.5,  # notebook 03's kernel under smoke, same day
    "current": 2.7,  # the whole course, before the Markdown chunks (docs/results.md, "Time and memory")
    "hn1-lr1e-4-b32-e1": 7.4,  # the default before the cost rule: a mined negative at batch 32 (same table)
}
LOWER_MEMORY: dict[str, str] = {
    "default": "LAB_PROFILE=smoke (a 64-pair subset; 2.5 GiB measured)",
    "hn1-lr1e-4-b32-e1": "the default profile's own recipe (leave LAB_RECIPE unset; 2.6 GiB measured)",
    "hn1-lr1e-4-b32": "the default profile's own recipe (leave LAB_RECIPE unset; 2.6 GiB measured)",
}


def measured_peak(profile_name: str, recipe: str | None) -> tuple[float | None, str]:
    """(measured peak GiB or None, what it is the peak of) for a profile and an optional ``LAB_RECIPE``."""
    key = recipe or profile_name
    what = f"LAB_RECIPE={recipe}" if recipe else f"the {profile_name} profile's recipe"
    return MEASURED_PEAK_GIB.get(key), what


# The named training recipes of `python -m helpers study`'s grid (plain data, so config depends on nothing):
# name -> (the profile fields it sets over STUDY_BASE, why it is in the grid). The profile's own earlier recipe
# ("current") first; each other row changes one or two knobs. LAB_RECIPE=<name> applies one.
STUDY_RECIPES: dict[str, tuple[dict, str]] = {
    "current": ({"epochs": 2, "learning_rate": 2e-5, "hard_negatives": 0, "ict_pairs": False,
                "dim_weights": "equal"}, "the course's recipe before this study"),
    "lr5e-5": ({"epochs": 2, "learning_rate": 5e-5}, "a larger learning rate, same budget"),
    "lr5e-5-e4": ({"epochs": 4, "learning_rate": 5e-5}, "twice the epochs, best epoch on val"),
    "lr1e-4": ({"epochs": 2, "learning_rate": 1e-4}, "a still larger learning rate"),
    "hn1": ({"epochs": 2, "learning_rate": 5e-5, "hard_negatives": 1}, "one mined hard negative"),
    "hn3": ({"epochs": 2, "learning_rate": 5e-5, "hard_negatives": 3}, "three mined hard negatives"),
    "ict": ({"epochs": 2, "learning_rate": 5e-5, "ict_pairs": True}, "one ICT pair per training chunk"),
    "small-heavy": ({"epochs": 2, "learning_rate": 5e-5, "dim_weights": "small-heavy"},
                "Matryoshka weights rising to 2 at the smallest dim"),
    # Second round: the best single change (hard negatives) combined with each of the others.
    "hn1-lr1e-4": ({"epochs": 2, "learning_rate": 1e-4, "hard_negatives": 1},
                "one hard negative at the larger learning rate"),
    "hn1-small-heavy": ({"epochs": 2, "learning_rate": 5e-5, "hard_negatives": 1,
                "dim_weights": "small-heavy"}, "one hard negative, small dims weighted up"),
    "hn1-ict": ({"epochs": 2, "learning_rate": 5e-5, "hard_negatives": 1, "ict_pairs": True},
                "one hard negative, plus ICT pairs"),
    # Third round: the best so far peaked after its first epoch, so try one epoch (half the time).
    "hn1-lr1e-4-e1": ({"epochs": 1, "learning_rate": 1e-4, "hard_negatives": 1},
                "one hard negative, larger learning rate, one epoch"),
    "hn1-e1": ({"epochs": 1, "learning_rate": 5e-5, "hard_negatives": 1},
                "one hard negative, one epoch"),
    # Fourth round, after the test set showed the small dims still short of BM25: a larger step, a larger batch.
    "hn1-lr2e-4": ({"epochs": 2, "learning_rate": 2e-4, "hard_negatives": 1},
                "one hard negative, a learning rate of 2e-4"),
    "hn1-lr1e-4-b32": ({"epochs": 2, "learning_rate": 1e-4, "hard_negatives": 1, "batch_size": 32},
                "one hard negative, batch 32 (63 wrong passages per question)"),
    "lr1e-4-b32": ({"epochs": 2, "learning_rate": 1e-4, "batch_size": 32},
                "batch 32 without mined negatives (31 wrong passages per question)"),
    "hn1-lr1e-4-b32-e1": ({"epochs": 1, "learning_rate": 1e-4, "hard_negatives": 1, "batch_size": 32},
                "one hard negative, batch 32, one epoch (the default before the cost rule)"),
    # The cost round (after Markdown extraction): the same batches through the cached loss, whose memory depends on
    # its mini-batch, not on the batch; and cheaper recipes, so the rule can weigh cost against val ndcg@10.
    "lr1e-4-e1": ({"epochs": 1, "learning_rate": 1e-4}, "the larger learning rate, one epoch: the cheapest"),
    "lr1e-4-b32-e1": ({"epochs": 1, "learning_rate": 1e-4, "batch_size": 32},
                "batch 32, one epoch, plain loss (its memory grows with the batch)"),
    "cached-b32-e1": ({"epochs": 1, "learning_rate": 1e-4, "batch_size": 32, "loss": "cached_mnrl",
                "mini_batch_size": 16}, "batch 32, one epoch, cached loss in mini-batches of 16"),
    "cached-b32": ({"epochs": 2, "learning_rate": 1e-4, "batch_size": 32, "loss": "cached_mnrl",
                "mini_batch_size": 16}, "batch 32, two epochs, cached loss"),
    "cached-hn1-b32-e1": ({"epochs": 1, "learning_rate": 1e-4, "hard_negatives": 1, "batch_size": 32,
                "loss": "cached_mnrl", "mini_batch_size": 16},
                "the default before the cost rule, through the cached loss"),
}
# Every configuration starts from these values, so "current" stays the same whatever the profile's defaults become.
STUDY_BASE = {"epochs": 2, "learning_rate": 2e-5, "batch_size": 16, "hard_negatives": 0, "ict_pairs": False,
              "dim_weights": "equal", "loss": "mnrl", "mini_batch_size": 32, "min_steps": 0}
# The configurations `python -m helpers study` runs by default (at most 8): the cost round above. The rest of the
# table are earlier rounds' recipes, kept so that LAB_RECIPE=<name> still reproduces them.
STUDY_GRID = ("current", "lr1e-4-e1", "lr1e-4", "lr1e-4-b32-e1", "cached-b32-e1", "hn1-lr1e-4-e1",
              "cached-hn1-b32-e1")


def recipe_overrides(name: str) -> dict:
    """The profile fields a named recipe of the study grid sets (``LAB_RECIPE=<name>``); a clear error otherwise."""
    if name not in STUDY_RECIPES:
        raise ValueError(f"{RECIPE_ENV}={name!r}: choose one of {', '.join(STUDY_RECIPES)} (python -m helpers study --help)")
    return {**STUDY_BASE, **STUDY_RECIPES[name][0]}


def get_profile(name: str | None = None, **overrides) -> Profile:
    """Return the named profile (default: ``$LAB_PROFILE`` or "default"), with overrides applied.

    ``LAB_SPLIT`` overrides the split regime and ``LAB_MODEL`` the model, ``LAB_RECIPE`` applies a recipe of the
    study grid (e.g. ``current``, ``hn1-lr1e-4-b32``) and ``LAB_HARD_NEGATIVES`` the number of mined negatives, so a
    user can switch without editing code.
    """
    name = name or os.environ.get(PROFILE_ENV, "default")
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r} (from ${PROFILE_ENV}); choose one of {', '.join(PROFILES)}")
    profile = PROFILES[name]
    env_overrides = {}
    if os.environ.get("LAB_SPLIT"):
        env_overrides["split_regime"] = os.environ["LAB_SPLIT"]
    if os.environ.get("LAB_MODEL"):
        env_overrides["model"] = os.environ["LAB_MODEL"]
    if os.environ.get(RECIPE_ENV, "").strip():  # a recipe of `python -m helpers study`'s grid, by name
        env_overrides.update(recipe_overrides(os.environ[RECIPE_ENV].strip()))
    if os.environ.get(HARD_NEGATIVES_ENV, "").strip():
        value = os.environ[HARD_NEGATIVES_ENV].strip()
        if not value.isdigit():
            raise ValueError(f"{HARD_NEGATIVES_ENV}={value!r}: give the number of hard negatives per pair (0 = off)")
        env_overrides["hard_negatives"] = int(value)
    profile = replace(profile, **{**env_overrides, **overrides})
    if profile.dim_weights not in DIM_WEIGHTS:
        raise ValueError(f"dim_weights {profile.dim_weights!r}: choose one of {', '.join(DIM_WEIGHTS)}")
    if profile.split_regime not in SPLIT_REGIMES:
        raise ValueError(f"split_regime {profile.split_regime!r}: choose one of {', '.join(SPLIT_REGIMES)}")
    return profile


# Notebook 08's reranker (a cross-encoder trained on the course's pairs). Its settings live beside the profiles, not
# in them: every Profile field is part of `python -m helpers study`'s cache key (asdict of the profile), so a new field
# would make the study retrain every saved configuration. LAB_RERANKER=<hub id or path> uses that cross-encoder as it
# is (no training).
RERANKER_ENV = "LAB_RERANKER"


@dataclass(frozen=True)
class RerankerSettings:
    """How notebook 08 trains its cross-encoder and how deep it reranks the hybrid's candidates.

    The defaults are the default profile's, sized for a 2-core CPU: a cross-encoder runs the whole transformer once
    per (question, passage) pair, for training, for every val evaluation and for every candidate it reranks, so the
    run is kept to two epochs, one mined and three drawn negatives a question, pairs cut at 160 tokens and shallow
    rerank depths.
    """

    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 1e-4  # a new head and under a hundred steps: 2e-4 fit train better and val worse
    warmup_ratio: float = 0.1
    hard_negatives: int = 1  # per training pair: the first stage's best training passages that do not answer it
    in_batch_negatives: int = 3  # per question and step: passages of other rows of the batch, drawn at random
    mini_batch_size: int = 16  # (question, passage) pairs through the transformer at once: memory, not the result
    max_length: int = 160  # tokens of question + passage together (half the course's pairs are shorter than 135)
    evals_per_epoch: int = 2  # val evaluations (candidate checkpoints) per epoch, and one at the end
    val_depth: int = 5  # candidates per val question the checkpoints are judged on
    depths: tuple[int, ...] = (5, 10)  # how many of the hybrid's top candidates to rerank: chosen on val
    latency_queries: int = 20  # test questions timed one at a time (latency per question and the funnel)
    seed: int = 42


RERANKER_SETTINGS: dict[str, RerankerSettings] = {
    "smoke": RerankerSettings(epochs=1, max_length=128, evals_per_epoch=1, depths=(3, 5), latency_queries=5),
    "default": RerankerSettings(),
    "full": RerankerSettings(epochs=2, batch_size=32, learning_rate=2e-5, hard_negatives=3, max_length=512,
                             val_depth=20, depths=(10, 20, 50), latency_queries=40),
}


def reranker_settings(profile: Profile, **overrides) -> RerankerSettings:
    """The reranker settings of ``profile`` (by its name; unknown names get the defaults), with overrides."""
    return replace(RERANKER_SETTINGS.get(profile.name, RerankerSettings()), **overrides)


def pretrained_reranker() -> str | None:
    """``$LAB_RERANKER`` (a hub id or a local folder of a cross-encoder), or None: train one in notebook 08."""
    return os.environ.get(RERANKER_ENV, "").strip() or None


def matryoshka_dims(full_dim: int, max_dims: int = 6) -> list[int]:
    """Dims to train and evaluate, derived from the model: 384 -> 384..32, 1024 -> 1024..64."""
    smaller = [d for d in (768, 512, 256, 128, 64, 32) if d < full_dim]
    return [full_dim, *smaller][:max_dims]


def matryoshka_weights(kind: str, dims: list[int]) -> list[float] | None:
    """MatryoshkaLoss weights for ``dims`` (largest first): None for "equal"; "small-heavy" rises linearly from 1
    at the full size to 2 at the smallest dim, whatever the model's dims are."""
    if kind == "equal":
        return None
    if kind == "small-heavy":
        n = len(dims)
        return [1.0 + i / max(n - 1, 1) for i in range(n)]
    raise ValueError(f"dim_weights {kind!r}: choose one of {', '.join(DIM_WEIGHTS)}")
