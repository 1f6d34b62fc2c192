"""Issue 20, item 1: every shipped example configuration names keys the logs hold, in their case.

The README's ini snippets, samples/filter.ini and the sidecar's ConfigMap are what users copy.
Each is run (`logfilter keys`, which reads the rules as `run` does) on the sample logs, which hold
every key they name; a rule that matches nothing there (`Password=hide` where the logs say
`PASSWORD`) fails the test with the message the user would see.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, SAMPLES, run_logfilter


def examples() -> dict[str, str]:
    """Each example configuration by where it is shipped."""
    found = {"samples/filter.ini": (SAMPLES / "filter.ini").read_text()}
    for number, block in enumerate(re.findall(r"```ini\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL), 1):
        found[f"README.md ini block {number}"] = block
    manifest = yaml.safe_load_all((ROOT / "deploy" / "kubernetes" / "sidecar.yaml").read_text())
    config_map = next(item for item in manifest if item and item["kind"] == "ConfigMap")
    found["deploy/kubernetes/sidecar.yaml ConfigMap"] = config_map["data"]["filter.ini"]
    return found


@pytest.mark.parametrize(("where", "text"), sorted(examples().items()))
def test_each_rule_of_each_example_matches_a_key(tmp_path: Path, where: str, text: str) -> None:
    """No rule of a shipped example matches nothing in the samples; `run` would warn of it."""
    ini = tmp_path / "filter.ini"
    ini.write_text(text)
    result = run_logfilter("keys", "-c", ini, "--format", "json", *sorted(SAMPLES.glob("*.log")))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["unmatched_rules"] == [], result.stderr


def test_a_wrong_case_is_what_it_catches(tmp_path: Path) -> None:
    """The check above is not vacuous: the ConfigMap as it shipped (Password=hide) fails it, naming PASSWORD."""
    ini = tmp_path / "filter.ini"
    ini.write_text(examples()["deploy/kubernetes/sidecar.yaml ConfigMap"].replace("PASSWORD=hide", "Password=hide"))
    result = run_logfilter("keys", "-c", ini, "--format", "json", *sorted(SAMPLES.glob("*.log")))
    assert json.loads(result.stdout)["unmatched_rules"] == [
        {"key": "Password", "filter_type": "hide", "origin": f"{ini}:4", "likely": ["PASSWORD"]}
    ]
    assert "the rule Password=hide matched no key in the logs read; did you mean PASSWORD?" in result.stderr
