"""Typed settings (cvm.settings): every YAML key is a field, unknown keys are refused with the
file's name, a home's configs/ overlays the packaged defaults."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cvm import config
from cvm.config import CvmError, load_config
from cvm.settings import SCHEMAS, RunSettings, SettingsError, typed

PACKAGED = sorted(p.stem for p in Path(config.CONFIG_DIR).glob("*.yaml"))


def _walk(raw: Any, view: Any, path: str) -> list[str]:
    """Key paths of ``raw`` (the YAML) that have no counterpart in ``view`` (the typed tree)."""
    if not isinstance(raw, dict):
        return []
    missing = []
    for key, value in raw.items():
        where = f"{path}.{key}" if path else str(key)
        if dataclasses.is_dataclass(view):
            if key not in {f.name for f in dataclasses.fields(view)}:
                missing.append(where)
                continue
            sub = getattr(view, key)
        elif isinstance(view, dict):
            if str(key) not in view:
                missing.append(where)
                continue
            sub = view[str(key)]
        else:
            missing.append(where)
            continue
        if isinstance(sub, list) and isinstance(value, list):
            for i, (r, v) in enumerate(zip(value, sub, strict=True)):
                missing += _walk(r, v, f"{where}[{i}]")
        else:
            missing += _walk(value, sub, where)
    return missing


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home folder (the working directory) with a configs/ overlay folder."""
    (tmp_path / "configs").mkdir()
    monkeypatch.setenv("CVM_HOME", str(tmp_path))
    return tmp_path


def test_every_packaged_file_has_a_schema() -> None:
    # regimes.yaml (simulator regimes; keys are regime names with hyphens) is read as plain YAML
    # by cvm.data.simulator.regimes and has no typed schema yet
    assert set(PACKAGED) - {"demo", "regimes"} == set(SCHEMAS)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_yaml_key_maps_to_a_field_and_every_field_has_a_value(name: str) -> None:
    raw = yaml.safe_load((Path(config.CONFIG_DIR) / f"{name}.yaml").read_text(encoding="utf-8"))
    view = typed(SCHEMAS[name], load_config(name))  # raises when a field has no YAML value
    assert _walk(raw, view, "") == []
    for f in dataclasses.fields(view):  # every top-level field is in the file itself
        assert f.name in raw, f"{name}.yaml has no {f.name!r}"


def test_the_demo_profile_is_a_run_overlay() -> None:
    raw = yaml.safe_load((Path(config.CONFIG_DIR) / "demo.yaml").read_text(encoding="utf-8"))
    s = typed(RunSettings, load_config(profile="demo"))
    assert s.explain.max_rows == raw["explain"]["max_rows"]
    assert (
        load_config("value", load_config(profile="demo")["value"])["params"]["learning_rate"]
        == raw["value"]["params"]["learning_rate"]
    )


def test_a_packaged_file_missing_a_key_names_it(tmp_path: Path, monkeypatch) -> None:
    for f in Path(config.CONFIG_DIR).glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    cfg = yaml.safe_load((tmp_path / "default.yaml").read_text(encoding="utf-8"))
    del cfg["explain"]["global_sample"]
    (tmp_path / "default.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    monkeypatch.setattr(config, "CONFIG_DIR", tmp_path)
    with pytest.raises(SettingsError, match=r"'explain.global_sample' is missing in .*default"):
        load_config()


def test_the_home_configs_folder_overlays_the_packaged_defaults(home: Path) -> None:
    (home / "configs" / "default.yaml").write_text(
        "budget: 5000\nexplain:\n  max_rows: 7\n", encoding="utf-8"
    )
    (home / "configs" / "campaigns.yaml").write_text(
        "planner:\n  method: greedy\n", encoding="utf-8"
    )
    cfg = load_config()
    assert cfg["budget"] == 5000 and cfg["explain"]["max_rows"] == 7
    assert cfg["explain"]["global_sample"] == 1000  # the packaged value of the other keys
    assert load_config("campaigns")["planner"]["method"] == "greedy"


def test_an_explicit_null_in_a_users_file_turns_a_setting_off(home: Path) -> None:
    # a null in a file is a setting (here: renewal uplift by state off), not "not given"
    assert load_config("campaigns")["measurement"]["renewal_recent_months"] is not None
    (home / "configs" / "campaigns.yaml").write_text(
        "measurement:\n  renewal_recent_months: null\n", encoding="utf-8"
    )
    cfg = load_config("campaigns")
    assert cfg["measurement"]["renewal_recent_months"] is None
    assert cfg["measurement"]["window_days"] == 30  # the packaged value of the other keys
    # an override left unset (None) still changes nothing
    assert (
        load_config("campaigns", {"measurement": {"window_days": None}})["measurement"][
            "window_days"
        ]
        == 30
    )


def test_a_profile_in_the_home_configs_folder(home: Path) -> None:
    (home / "configs" / "fast.yaml").write_text("churn:\n  num_boost_round: 9\n", encoding="utf-8")
    assert load_config(profile="demo+fast")["churn"]["num_boost_round"] == 9


@pytest.mark.parametrize(
    "text, words",
    [
        (
            "budgte: 5\n",
            r"unknown setting 'budgte' in .*configs/default.yaml; did you mean 'budget'",
        ),
        ("explain:\n  max_row: 7\n", r"unknown setting 'explain.max_row' in .*default.yaml"),
        ("campaigns:\n  planner:\n    methd: greedy\n", r"'campaigns.planner.methd'"),
        ("explain:\n  max_rows: many\n", r"'explain.max_rows' in .*default.yaml must be a whole"),
        ("churn:\n  calibration: sigmoid\n", r"must be one of 'platt', 'isotonic'"),
    ],
)
def test_a_bad_key_in_a_users_file_names_the_key_and_the_file(
    home: Path, text: str, words: str
) -> None:
    (home / "configs" / "default.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CvmError, match=words):
        load_config()


def test_an_unknown_simulator_coefficient_is_refused(home: Path) -> None:
    (home / "configs" / "simulator.yaml").write_text("visits:\n  p_duee: 0.5\n", encoding="utf-8")
    with pytest.raises(CvmError, match=r"visits.*p_duee.*simulator.yaml"):
        load_config("simulator")


def test_overrides_are_checked_too() -> None:
    with pytest.raises(CvmError, match=r"unknown setting 'horizon' in the overrides"):
        load_config(overrides={"horizon": 3})
    assert load_config(overrides={"horizon_months": 3, "budget": None})["horizon_months"] == 3
    # a parameter of the wrong type is left to its own check (cvm.run_checks names the flag)
    assert load_config(overrides={"horizon_months": "x"})["horizon_months"] == "x"


def test_the_cli_exits_2_naming_the_key_and_the_file(home: Path, monkeypatch) -> None:
    from cvm.cli import app

    monkeypatch.chdir(home)  # --home changes the working directory: restored after the test
    (home / "configs" / "default.yaml").write_text("explain:\n  max_row: 7\n", encoding="utf-8")
    res = CliRunner().invoke(
        app, ["--home", str(home), "train", "--data", "data/x", "--as-of", "2024-06-30"]
    )
    assert res.exit_code == 2, res.output
    assert "explain.max_row" in res.output and "default.yaml" in res.output
    assert "Traceback" not in res.output


def test_home_must_exist(tmp_path: Path) -> None:
    from cvm.cli import app

    res = CliRunner().invoke(app, ["--home", str(tmp_path / "nope"), "validate", "--data", "x"])
    assert res.exit_code == 2 and "--home" in res.output
