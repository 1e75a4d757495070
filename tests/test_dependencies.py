"""Dependency floors admit no release with a known vulnerability, and each is a release."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# The first releases without a published vulnerability that the admin's use could meet:
# Django 5.2.8 (CVE-2025-64459, SQL injection through `_connector`; CVE-2025-64458),
# requests 2.32.4 (CVE-2024-47081, .netrc credentials sent to another host).
FIXED_IN = {"django": Version("5.2.8"), "requests": Version("2.32.4")}


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    return [Requirement(text) for text in project["dependencies"]]


def floor(requirement: Requirement) -> Version:
    floors = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    assert floors, f"{requirement.name} has no floor"
    return max(floors)


@pytest.mark.parametrize("name", sorted(FIXED_IN))
def test_floors_are_past_the_known_vulnerable_releases(name: str) -> None:
    (requirement,) = [r for r in runtime_requirements() if r.name == name]
    assert floor(requirement) >= FIXED_IN[name]


def test_every_runtime_dependency_has_a_floor_this_environment_meets() -> None:
    for requirement in runtime_requirements():
        assert floor(requirement) <= Version(version(requirement.name)), requirement
