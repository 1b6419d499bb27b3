"""``python -m helpers study``: train a small grid of recipes, compare them on val, then test the chosen one once."""

from __future__ import annotations

import argparse

from helpers.config import SPLIT_REGIMES


def register(sub, profiles: list[str]) -> None:
    from helpers.training.study import GRID

    names = ", ".join(c.name for c in GRID)
    p = sub.add_parser("study", help="train a grid of recipes (hard negatives, epochs, learning rate, ICT pairs, dim "
                                     "weights) and tabulate val ndcg@10 per dim with wall times; --test scores "
                                     "chosen recipes once on test with paired CIs")
    p.add_argument("--profile", choices=profiles, default="default", help="profile the grid starts from")
    p.add_argument("--regime", choices=[*SPLIT_REGIMES, "both"], default="both", help="split regime(s) (default both)")
    p.add_argument("--configs", nargs="+", default=None, metavar="NAME", help=f"configurations to train ({names}); "
                   "default all")
    p.add_argument("--test", nargs="+", default=None, metavar="NAME",
                   help="instead of training: score these trained configurations on test, each against base and the ones "
                        "named before it (e.g. --test current hn1); 'best' stands for the best on val")
    p.set_defaults(func=cmd_study)


def cmd_study(args: argparse.Namespace) -> int:
    import pandas as pd

    from helpers.config import get_profile
    from helpers.training.study import best_on_val, cost_rule, grid, run_study, test_study, val_table

    regimes = list(SPLIT_REGIMES) if args.regime == "both" else [args.regime]
    for regime in regimes:
        profile = get_profile(args.profile, split_regime=regime)
        if args.test:
            val_file = profile.outputs / "study" / "val.csv"
            best = best_on_val(pd.read_csv(val_file)) if val_file.exists() else None
            names = [best if n == "best" else n for n in args.test]
            if None in names:
                raise SystemExit(f"{val_file} is missing: run `python -m helpers study` first")
            result = test_study(profile, list(dict.fromkeys(names)))
            print(f"\n== test, {regime} regime ({profile.outputs / 'study'}) ==")
            summary = result["summary"].pivot(index="system", columns="dim", values="ndcg@10").round(3)
            print("ndcg@10 (dim 0 = BM25):")
            print(summary.to_string())
            boot = result["bootstrap"]
            boot = boot[boot.metric == "ndcg@10"][["system", "baseline", "dim", "difference", "ci_low", "ci_high",
                                                   "significant"]]
            print("paired bootstrap, ndcg@10 difference (95% CI):")
            print(boot.round(3).to_string(index=False))
            continue
        table = run_study(profile, grid(args.configs))
        print(f"\n== val ndcg@10, {regime} regime ({profile.outputs / 'study' / 'val.csv'}) ==")
        print(val_table(table))
        print(f"best on val (mean over dims): {best_on_val(table)}")
        rule = cost_rule(profile, table[table.config.isin([c.name for c in grid(args.configs)])])
        print("\nthe rule (peak <= 4 GiB; clustered val interval vs the best includes 0; gain over base above 0 at "
              "64 and 32), cheapest by CPU seconds:")
        shown = ["config", "cpu_s", "wall_s", "peak_gib", "val_mean_ndcg@10", "minus_best_low", "minus_best_high",
                 "gain_64_low", "gain_32_low", "qualifies", "chosen"]
        print(rule[shown].round(3).to_string(index=False))
        chosen = rule[rule.chosen].config.tolist()
        print(f"chosen: {chosen[0] if chosen else 'none qualifies'} ({profile.outputs / 'study' / 'rule.csv'})")
    return 0
