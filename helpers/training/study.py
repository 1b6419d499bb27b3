"""``python -m helpers study``: choose a training recipe on val, then test the choice once.

Each configuration is the profile plus a few overrides (notebook 03's knobs: hard negatives, epochs with the
best-on-val checkpoint, learning rate, ICT pairs, Matryoshka dim weights). ``run_study`` trains each one with
notebook 03's ``fine_tune`` on notebook 02's pairs and records val ndcg@10 per dim at the checkpoint chosen on val,
with the wall time of the run (mining included). ``test_study`` evaluates chosen configurations once on the test
set with paired bootstrap CIs per dim, against the base model and against each other.

Files: ``outputs/<profile>[-questions]/study/{val.csv, test.csv, test_bootstrap.csv, <config>/...}``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from helpers.config import STUDY_BASE, STUDY_GRID, STUDY_RECIPES, Profile


@dataclass(frozen=True)
class StudyConfig:
    """One recipe of the grid: a name, the profile fields it changes, and why it is in the grid."""

    name: str
    overrides: dict
    why: str

    def profile_fields(self) -> dict:
        """The profile fields this configuration sets: the grid's base values, then its own overrides."""
        return {**STUDY_BASE, **self.overrides}


# The grid's configurations, from config's plain data (LAB_RECIPE reads the same table).
GRID: tuple[StudyConfig, ...] = tuple(StudyConfig(name, overrides, why) for name, (overrides, why) in STUDY_RECIPES.items())


def grid(names: list[str] | None = None) -> list[StudyConfig]:
    """The study's configurations (``STUDY_GRID``), or the named configurations of the table (in the order given)."""
    by_name = {c.name: c for c in GRID}
    names = names or list(STUDY_GRID)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"unknown configuration(s) {', '.join(unknown)}; choose from {', '.join(by_name)}")
    return [by_name[n] for n in names]


def config_profile(profile: Profile, config: StudyConfig) -> Profile:
    """The profile with the grid's base values and then the configuration's overrides."""
    return replace(profile, **config.profile_fields())


def _digest(*paths: Path) -> str:
    hasher = hashlib.sha256()
    for path in paths:
        hasher.update(Path(path).read_bytes())
    return hasher.hexdigest()[:16]


def prepare_study_pairs(profile: Profile) -> None:
    """Run notebooks 01-02's steps, so the study trains on the pairs the current data gives (a few seconds)."""
    from helpers.pipeline import step_build_pairs, step_load_corpus

    step_load_corpus(profile)
    step_build_pairs(profile)


def _reset_peak_memory() -> None:
    """Reset this process's peak resident memory (Linux: VmHWM), so the next reading is one run's peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_memory_gib() -> float | None:
    """This process's peak resident memory since the last reset, in GiB (None where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024**2, 2)
    except OSError:
        pass
    return None


def val_per_query(profile: Profile, model_path: str, val_ir: dict, system: str) -> pd.DataFrame:
    """Per-question val scores at every dim of one model (the clustered interval of the rule needs them)."""
    from helpers.config import matryoshka_dims
    from helpers.evaluation.metrics import encode_ir, evaluate_encoded
    from helpers.training.modeling import load_model

    encoded = encode_ir(load_model(model_path, profile.max_seq_length if system == "base" else None), val_ir)
    return evaluate_encoded(encoded, val_ir["relevant_docs"], matryoshka_dims(encoded.queries.shape[1])).assign(
        system=system)


def run_config(profile: Profile, config: StudyConfig, keep_checkpoints: bool = False) -> dict:
    """Train one configuration on the profile's pairs (or reuse its saved row) and return its val row.

    The row holds val ndcg@10 per dim at the checkpoint chosen on val, the wall and CPU seconds of the run (mining
    included), its optimizer steps and its peak memory; ``val_per_query.csv`` beside it holds per-question scores.
    """
    import resource

    from helpers.data.dataset import load_ir, load_pairs
    from helpers.lessons.recipe import fine_tune

    pairs_file, val_file = profile.outputs / "pairs" / "train.jsonl", profile.outputs / "pairs" / "val_ir.json"
    trained = config_profile(profile, config)
    settings = asdict(trained) | {"outputs": str(profile.outputs)}
    key = hashlib.sha256(json.dumps([settings, _digest(pairs_file, val_file)], sort_keys=True).encode()).hexdigest()[:12]
    out = profile.outputs / "study" / config.name
    row_file = out / "study_row.json"
    if row_file.exists():
        saved = json.loads(row_file.read_text(encoding="utf-8"))
        if saved.get("key") == key and (out / "model").exists():
            return {**{k: settings[k] for k in STUDY_BASE}, **saved}  # rows saved before a knob joined the grid
    _reset_peak_memory()
    cpu_start, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    result = fine_tune(trained, load_pairs(pairs_file), load_ir(val_file), out, progress=True)
    seconds, cpu_end = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    peak = _peak_memory_gib()
    val_per_query(trained, str(out / "model"), load_ir(val_file), config.name).to_csv(out / "val_per_query.csv",
                                                                                       index=False)
    best = result.val_history.loc[(result.val_history.epoch - result.best_epoch).abs().idxmin()]
    row = {"config": config.name, "why": config.why, "regime": profile.split_regime, "key": key,
           **{k: v for k, v in settings.items() if k in STUDY_BASE},
           "best_epoch": float(result.best_epoch),
           **{f"val_ndcg@10_{d}": float(best[f"val_dim{d}_ndcg@10"]) for d in result.dims},
           "val_mean_ndcg@10": float(best["val_mean_ndcg@10"]),
           "wall_s": round(seconds, 1),
           "cpu_s": round(cpu_end.ru_utime + cpu_end.ru_stime - cpu_start.ru_utime - cpu_start.ru_stime, 1),
           "steps": int(result.steps), "peak_gib": peak, "device": result.device}
    if not keep_checkpoints:  # the chosen model is saved in model/; optimizer states are large
        shutil.rmtree(out / "checkpoints", ignore_errors=True)
    row_file.write_text(json.dumps(row, indent=1), encoding="utf-8")
    return row


def run_study(profile: Profile, configs: list[StudyConfig]) -> pd.DataFrame:
    """Train every configuration on this profile's split regime; write and return ``study/val.csv``."""
    prepare_study_pairs(profile)
    rows = []
    for config in configs:
        print(f"[study {profile.split_regime}] {config.name}: {config.why}")
        rows.append(run_config(profile, config))
    table = pd.DataFrame(rows).drop(columns=["key"])
    out = profile.outputs / "study"
    out.mkdir(parents=True, exist_ok=True)
    previous = out / "val.csv"
    if previous.exists():  # keep rows of configurations not run this time
        old = pd.read_csv(previous)
        table = pd.concat([old[~old.config.isin(table.config)], table], ignore_index=True)
    table.to_csv(previous, index=False)
    return table


def best_on_val(table: pd.DataFrame) -> str:
    """The configuration with the highest val mean ndcg@10 over dims (the metric that picks checkpoints)."""
    return str(table.sort_values("val_mean_ndcg@10", ascending=False).iloc[0]["config"])


MEMORY_BUDGET_GIB = 4.0  # the default course's peak memory budget
SMALL_DIMS = (64, 32)  # the rule asks a real gain over the base model at these dims
COST_TIE = 0.10  # costs within 10% of the cheapest count as equal


def cost_rule(profile: Profile, table: pd.DataFrame) -> pd.DataFrame:
    """The study's rule, one row per configuration, ``chosen`` marking the default it picks.

    A configuration qualifies when (1) its peak memory is within :data:`MEMORY_BUDGET_GIB`, (2) the clustered
    (val chunks) 95% interval of its mean-over-dims val ndcg@10 minus the best configuration's includes 0, and
    (3) its gain over the base model at each of :data:`SMALL_DIMS` has a clustered interval above 0. The chosen one
    is the cheapest that qualifies, by CPU seconds of training (steadier than wall time on a shared machine); costs
    within :data:`COST_TIE` of the cheapest tie, and the tie goes to the lowest peak memory.
    """
    from helpers.data.dataset import load_ir
    from helpers.evaluation.metrics import paired_bootstrap, question_clusters

    val_ir = load_ir(profile.outputs / "pairs" / "val_ir.json")
    clusters = question_clusters(val_ir["relevant_docs"])
    frames = [val_per_query(profile, profile.model, val_ir, "base")]
    frames += [pd.read_csv(profile.outputs / "study" / name / "val_per_query.csv", dtype={"query_id": str})
               for name in table.config]
    per_query = pd.concat(frames, ignore_index=True)
    best = best_on_val(table)
    means = per_query.groupby(["system", "query_id"], as_index=False)["ndcg@10"].mean().assign(dim=-1)
    vs_best = paired_bootstrap(means, baseline=best, metrics=("ndcg@10",), seed=profile.seed, clusters=clusters)
    small = per_query[per_query.dim.isin(SMALL_DIMS)]
    vs_base = paired_bootstrap(small, baseline="base", metrics=("ndcg@10",), seed=profile.seed, clusters=clusters)
    rows = []
    for row in table.to_dict("records"):
        name = row["config"]
        gap = vs_best[vs_best.system == name]
        gains = vs_base[vs_base.system == name].set_index("dim")
        rows.append({
            "config": name, "cpu_s": row.get("cpu_s"), "wall_s": row.get("wall_s"), "peak_gib": row.get("peak_gib"),
            "val_mean_ndcg@10": row["val_mean_ndcg@10"],
            "minus_best": float(gap.difference.iloc[0]) if len(gap) else 0.0,
            "minus_best_low": float(gap.ci_low.iloc[0]) if len(gap) else 0.0,
            "minus_best_high": float(gap.ci_high.iloc[0]) if len(gap) else 0.0,
            **{f"gain_{d}_low": float(gains.loc[d, "ci_low"]) for d in SMALL_DIMS if d in gains.index},
        })
    rule = decide(pd.DataFrame(rows))
    rule.to_csv(profile.outputs / "study" / "rule.csv", index=False)
    return rule


def decide(rule: pd.DataFrame) -> pd.DataFrame:
    """The rule's verdict on rows of measured cost and clustered intervals (see :func:`cost_rule`)."""
    rule = rule.copy()
    rule["fits_memory"] = rule.peak_gib.astype(float).fillna(float("inf")) <= MEMORY_BUDGET_GIB
    rule["near_best"] = (rule.minus_best_low <= 0) & (rule.minus_best_high >= 0)
    gains = [f"gain_{d}_low" for d in SMALL_DIMS]
    rule["gains_small_dims"] = rule.reindex(columns=gains).fillna(float("-inf")).gt(0).all(axis=1)
    rule["qualifies"] = rule.fits_memory & rule.near_best & rule.gains_small_dims
    rule["chosen"] = False
    if rule.qualifies.any():
        # CPU seconds on a shared machine vary by several percent: within COST_TIE of the cheapest is a tie, and the
        # tie goes to the lower peak memory (the budget that laptops hit first).
        qualified = rule[rule.qualifies]
        tied = qualified[qualified.cpu_s <= qualified.cpu_s.min() * (1 + COST_TIE)]
        rule.loc[tied.peak_gib.astype(float).idxmin(), "chosen"] = True
    return rule


def test_study(profile: Profile, names: list[str]) -> dict[str, pd.DataFrame]:
    """Evaluate the base model and the named configurations once on the test set, with paired bootstrap CIs that
    resample test chunks with all their questions (``question_clusters``; ``unit`` "test chunk").

    Each configuration is compared with the base model and with every configuration named before it (the first
    name is the reference recipe).
    """
    from helpers.config import matryoshka_dims
    from helpers.data.dataset import load_ir
    from helpers.evaluation.metrics import (
        encode_ir,
        evaluate_bm25,
        evaluate_encoded,
        paired_bootstrap,
        question_clusters,
        summarize,
    )
    from helpers.training.modeling import load_model

    test_ir = load_ir(profile.outputs / "pairs" / "test_ir.json")
    clusters = question_clusters(test_ir["relevant_docs"])
    frames = []
    for system in ["base", *names]:
        path = profile.model if system == "base" else str(profile.outputs / "study" / system / "model")
        if system != "base" and not Path(path).exists():
            raise FileNotFoundError(f"{path} is missing: run `python -m helpers study --configs {system}` first")
        encoded = encode_ir(load_model(path, profile.max_seq_length if system == "base" else None), test_ir)
        dims = matryoshka_dims(encoded.queries.shape[1])
        frames.append(evaluate_encoded(encoded, test_ir["relevant_docs"], dims).assign(system=system))
    frames.append(evaluate_bm25(test_ir))
    per_query = pd.concat(frames, ignore_index=True)
    boot = [paired_bootstrap(per_query, baseline="base", seed=profile.seed, clusters=clusters)]
    for i, reference in enumerate(names[:-1]):  # every later configuration against every earlier one
        pair = per_query[per_query.system.isin(names[i:])]
        boot.append(paired_bootstrap(pair, baseline=reference, seed=profile.seed, clusters=clusters))
    bootstrap = pd.concat(boot, ignore_index=True)
    summary = summarize(per_query)
    out = profile.outputs / "study"
    per_query.to_csv(out / "test_per_query.csv", index=False)
    summary.to_csv(out / "test.csv", index=False)
    bootstrap.to_csv(out / "test_bootstrap.csv", index=False)
    return {"summary": summary, "bootstrap": bootstrap, "per_query": per_query}


def describe(row: dict) -> str:
    """A configuration's knobs in a few words: epochs, learning rate, batch, negatives, extras."""
    rate = f"{row['learning_rate']:.0e}".replace("e-0", "e-")  # 1e-4, not 0.0001
    parts = [f"{int(row['epochs'])} ep", f"lr {rate}", f"batch {int(row['batch_size'])}"]
    if row.get("hard_negatives"):
        parts.append(f"{int(row['hard_negatives'])} hard neg")
    if row.get("ict_pairs") in (True, "True"):
        parts.append("+ICT")
    if row.get("dim_weights", "equal") != "equal":
        parts.append(str(row["dim_weights"]))
    if row.get("loss") == "cached_mnrl":
        parts.append(f"cached loss, mini-batch {int(row['mini_batch_size'])}")
    return ", ".join(parts)


def val_table(table: pd.DataFrame) -> str:
    """The val table as printed: ndcg@10 per dim, the mean, best epoch and wall time per configuration."""
    dims = [c for c in table.columns if c.startswith("val_ndcg@10_")]
    shown = table[["config", *dims, "val_mean_ndcg@10", "best_epoch", "wall_s"]].copy()
    shown.columns = ["config", *[c.split("_")[-1] for c in dims], "mean", "best epoch", "wall s"]
    shown.insert(1, "recipe", [describe(row) for row in table.to_dict("records")])
    return shown.round(3).to_string(index=False)
