"""The workshop commands of ``python -m helpers``: doctor (is this machine ready for the course?) and colab-links."""

from __future__ import annotations

import argparse
import os

from helpers.config import PROFILES


def register(sub, profiles: list[str] | None = None) -> None:
    p = sub.add_parser("doctor", help="check Python, packages, device, RAM, the offline model and the hub; "
                                      "exits 1 on any FAIL")
    p.add_argument("--profile", choices=profiles or sorted(PROFILES), default=None,
                   help="default: $LAB_PROFILE or 'default'")
    p.add_argument("--offline", action="store_true", help="skip the Hugging Face hub check (no network access)")
    p.add_argument("--skip-model", action="store_true", help="skip loading the bundled model (faster)")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("colab-links", help="write each notebook's Open-in-Colab badge and setup cell from "
                                           "pyproject.toml's Repository URL")
    p.add_argument("--check", action="store_true", help="only report notebooks that differ (exit 1 if any)")
    p.set_defaults(func=cmd_colab_links)


def cmd_doctor(args: argparse.Namespace) -> int:
    from helpers.workshop import doctor

    if args.profile:
        os.environ["LAB_PROFILE"] = args.profile
    results = doctor.run_checks(network=not args.offline, load_model=not args.skip_model)
    print(doctor.report(results))
    return doctor.exit_code(results)


def cmd_colab_links(args: argparse.Namespace) -> int:
    from helpers.workshop.colab import repository_url, sync_notebooks

    changed = sync_notebooks(write=not args.check)
    verb = "differ" if args.check else "updated"
    for name, what in changed.items():
        print(f"{name}: {', '.join(what)} {verb}")
    print(f"{len(changed)} notebook(s) {verb}; repository {repository_url()}")
    return 1 if args.check and changed else 0
