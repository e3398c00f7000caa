"""environment.yml lists exactly the packages and pins of pyproject.toml (runtime + dev + lab);
the wheel's package list names every package of src/."""

from __future__ import annotations

import re
import tomllib

import yaml

from cvm.config import PROJECT_ROOT


def _norm(requirement: str) -> str:
    """``Foo_Bar >= 1.0`` → ``foo-bar>=1.0`` (PEP 503 name, no spaces)."""
    req = requirement.replace(" ", "")
    name, rest = re.match(r"^([A-Za-z0-9._-]+)(.*)$", req).groups()  # type: ignore[union-attr]
    return re.sub(r"[-_.]+", "-", name).lower() + rest


def _pyproject() -> dict:
    with open(PROJECT_ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]


def _environment() -> tuple[list[str], list[str]]:
    """(conda entries, pip entries) of environment.yml."""
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return conda, pip


def test_environment_lists_the_pyproject_requirements() -> None:
    project = _pyproject()
    extras = project["optional-dependencies"]
    want = sorted({_norm(r) for r in [*project["dependencies"], *extras["dev"], *extras["lab"]]})
    _, pip = _environment()
    got = sorted(_norm(r) for r in pip if not r.startswith("-"))
    assert got == want


def test_environment_python_and_package_install() -> None:
    project = _pyproject()
    conda, pip = _environment()
    assert f"python{project['requires-python']}" in conda
    assert "pip" in conda
    assert any(r.startswith("-e .") for r in pip)


def test_the_wheel_lists_every_package_of_src() -> None:
    """setuptools' explicit ``packages`` list (``cvm`` = src/) must name every folder with an
    ``__init__.py``: a forgotten subpackage is missing from the installed wheel."""
    with open(PROJECT_ROOT / "pyproject.toml", "rb") as fh:
        listed = set(tomllib.load(fh)["tool"]["setuptools"]["packages"])
    src = PROJECT_ROOT / "src"
    found = {".".join(("cvm", *p.parent.relative_to(src).parts)) for p in src.rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
