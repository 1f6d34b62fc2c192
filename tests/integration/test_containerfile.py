"""The sidecar image and its k8s manifest, held to the CLI: the image's own command is run here."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, run_logfilter

CONTAINERFILE = ROOT / "Containerfile"
MANIFEST = ROOT / "deploy" / "kubernetes" / "sidecar.yaml"
CANARIES = (b"S3cretCanary77", b"S3cretCanary88")


def message(secret: bytes, event: bytes = b"EventRinging") -> bytes:
    return (b"@10:26:01.5600 [0] 8.1.103.74 distribute_event: message " + event + b"\n"
            b"\tAttributeUserData\t[561] 00 14 00 00..\n\t\t'PASSWORD'\t'" + secret + b"'\n"
            # Each key the ConfigMap names is here (no rule matches nothing), the others already masked.
            b"\t\t'CardNumber'\t'************1111'\n\t\t'SSN'\t'****'\n"
            b"\t\t'RTenant'\t'Resources'\n\tAttributeConnID\t006c029a6685d004\n"
            b"12:00:00.000 Std 00000 next event\n")


def final_stage() -> tuple[str, list[tuple[str, str]]]:
    """The final stage's base image (build arguments at their defaults, stage names resolved) and
    its (INSTRUCTION, arguments) pairs."""
    stages: dict[str, str] = {}
    arguments: dict[str, str] = {}  # ARGs before the first FROM: the only ones a FROM line can use
    base, stage, pending = "", [], ""
    for line in CONTAINERFILE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue  # inside a `\` continuation too, as the builders do
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        word, _, rest = (pending + line).partition(" ")
        pending = ""
        if word.upper() == "ARG" and not base:
            name, _, default = rest.strip().partition("=")
            arguments[name] = default.strip('"')
        if word.upper() != "FROM":
            stage.append((word.upper(), rest.strip()))
            continue
        rest = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: arguments[m[1] or m[2]], rest)
        words = [item for item in rest.split() if not item.startswith("--")]
        base, stage = stages.get(words[0].lower(), words[0]), []
        if len(words) == 3 and words[1].upper() == "AS":
            stages[words[2].lower()] = base
    return base, stage


def last(word: str) -> str:
    return [rest for name, rest in final_stage()[1] if name == word][-1]


def exec_form(word: str) -> list[str]:
    value = json.loads(last(word))
    assert isinstance(value, list), f"{word} is not in JSON (exec) form"
    return value


def manifest(kind: str) -> dict[str, Any]:
    return next(doc for doc in yaml.safe_load_all(MANIFEST.read_text()) if doc and doc["kind"] == kind)


def containers() -> dict[str, dict[str, Any]]:
    spec = manifest("Pod")["spec"]  # a native sidecar (initContainers, restartPolicy: Always) counts too
    return {item["name"]: item for item in spec.get("initContainers", []) + spec["containers"]}


def local_command(tmp: Path, ini: Path) -> list[str]:
    """ENTRYPOINT + CMD with the container's paths mapped into `tmp`, listening on a free local port."""
    mapping = {"/etc/logfilter/filter.ini": str(ini), "/logs/raw": str(tmp / "raw"),
               "/logs/clean": str(tmp / "clean"), "/state": str(tmp / "state"), "0.0.0.0:9464": "127.0.0.1:0"}

    def local(arg: str) -> str:
        for old, new in mapping.items():
            if arg == old or arg.startswith(old + "/"):
                return new + arg[len(old):]
        assert not arg.startswith("/") and "9464" not in arg, f"{arg}: a container path this test does not map"
        return arg

    entrypoint = exec_form("ENTRYPOINT")
    assert entrypoint[0] == "logfilter"
    return [sys.executable, "-m", "logfilter", *map(local, entrypoint[1:] + exec_form("CMD"))]


class TestContainerfile:
    def test_final_base_is_python_slim(self) -> None:
        """The final stage builds on an official python *-slim image."""
        name, _, tag = final_stage()[0].partition("@")[0].rpartition(":")
        assert name.removeprefix("docker.io/").removeprefix("library/") == "python" and "slim" in tag.split("-")

    def test_numeric_non_root_user(self) -> None:
        """The final stage runs as a numeric, non-zero UID, which k8s runAsNonRoot can verify."""
        uid = last("USER").split(":")[0]
        assert uid.isdigit() and int(uid) != 0

    def test_entrypoint_and_volumes(self) -> None:
        """ENTRYPOINT is exec-form `logfilter follow` and the raw, clean and state folders are volumes."""
        assert exec_form("ENTRYPOINT") == ["logfilter", "follow"]
        volumes = {path for name, rest in final_stage()[1] if name == "VOLUME"
                   for path in (json.loads(rest) if rest.startswith("[") else rest.split())}
        assert {"/logs/raw", "/logs/clean", "/state"} <= volumes

    @pytest.mark.slow
    def test_default_command_runs_here(self, tmp_path: Path) -> None:
        """The image's command, run on temp folders, masks a growing log, serves /healthz and exits 0 on SIGTERM."""
        for folder in ("raw", "clean", "state"):
            (tmp_path / folder).mkdir()
        ini, raw, clean = tmp_path / "filter.ini", tmp_path / "raw/SIPTS750.log", tmp_path / "clean/SIPTS750.log"
        ini.write_text(manifest("ConfigMap")["data"]["filter.ini"])
        raw.write_bytes(message(CANARIES[0]))  # there before the start: read or not, per --from-start/--from-end
        output = tmp_path / "output.txt"
        with output.open("wb") as sink:
            command = local_command(tmp_path, ini)
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink)

        def wait_for(check: Any) -> Any:
            deadline = time.monotonic() + 10
            while not (found := check()) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert proc.poll() is None, f"exited with {proc.returncode}: {output.read_text()}"
            return found

        try:
            listening = wait_for(lambda: re.search(rb"logfilter: listening on ([\d.]+):(\d+)", output.read_bytes()))
            time.sleep(0.5)  # let the first scan finish before the log grows
            with raw.open("ab") as log:
                log.write(message(CANARIES[1], b"EventEstablished"))
            grown = wait_for(lambda: clean.is_file() and message(b"****", b"EventEstablished") in clean.read_bytes())
            assert grown, f"{clean.name} never held the masked message; output: {output.read_text()}"
            assert listening, f"no 'listening on HOST:PORT' line; output: {output.read_text()}"
            url = "http://{}:{}/healthz".format(*map(bytes.decode, listening.groups()))
            with urllib.request.urlopen(url, timeout=5) as got:
                assert got.status == 200
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=15) == 0, output.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert not any(canary in path.read_bytes() for canary in CANARIES for path in (clean, output))
        assert (tmp_path / "state/follow.json").is_file()


class TestManifest:
    def test_sidecar_runs_the_image_command(self) -> None:
        """The sidecar keeps the image's ENTRYPOINT and its args, if given, equal the Containerfile CMD."""
        sidecar = containers()["logfilter"]
        assert sidecar.get("command", exec_form("ENTRYPOINT")) == exec_form("ENTRYPOINT")
        assert sidecar.get("args", exec_form("CMD")) == exec_form("CMD")

    def test_sidecar_hardened(self) -> None:
        """The sidecar runs as the image's non-root UID on a read-only root with no privileges to gain."""
        context = containers()["logfilter"]["securityContext"]
        assert context["readOnlyRootFilesystem"] is True and context["runAsNonRoot"] is True
        assert context["allowPrivilegeEscalation"] is False and "ALL" in context["capabilities"]["drop"]
        assert context["runAsUser"] == int(last("USER").split(":")[0])

    def test_raw_logs_shared_read_only(self) -> None:
        """An emptyDir is mounted by both containers, read-only at /logs/raw in the sidecar."""
        empty = {item["name"] for item in manifest("Pod")["spec"]["volumes"] if "emptyDir" in item}
        mounts = {name: {m["name"]: m for m in item["volumeMounts"]} for name, item in containers().items()}
        shared = empty.intersection(*mounts.values())
        assert len(mounts) == 2 and any(
            mounts["logfilter"][name]["mountPath"] == "/logs/raw" and mounts["logfilter"][name].get("readOnly")
            for name in shared)

    def test_probes_on_healthz(self) -> None:
        """The readiness probe GETs /healthz, the liveness probe /livez (issue 20.7: a liveness probe on
        /healthz restarted a sidecar with a failed file for ever), on the port the CMD listens on."""
        cmd = exec_form("CMD")
        port = int(cmd[cmd.index("--listen") + 1].rpartition(":")[2])
        for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/healthz")):
            assert containers()["logfilter"][probe]["httpGet"] == {"path": path, "port": port}

    def test_only_the_scraper_reaches_the_port(self) -> None:
        """Issue 22.9: a NetworkPolicy lets only the Prometheus pods reach the sidecar's port (the
        kubelet's probes come from the node, which a NetworkPolicy cannot block)."""
        policy = manifest("NetworkPolicy")["spec"]
        assert policy["podSelector"]["matchLabels"] == manifest("Pod")["metadata"]["labels"]
        assert policy["policyTypes"] == ["Ingress"]
        port = int(exec_form("CMD")[exec_form("CMD").index("--listen") + 1].rpartition(":")[2])
        to_port = [rule for rule in policy["ingress"] if {"port": port, "protocol": "TCP"} in rule.get("ports", [])]
        assert len(to_port) == 1 and to_port[0]["from"], to_port
        assert all("ipBlock" not in peer for peer in to_port[0]["from"])
        others = [rule for rule in policy["ingress"] if rule is not to_port[0]]
        assert all(port not in [item["port"] for item in rule["ports"]] for rule in others)  # no rule opens it to all

    def test_configmap_rules_mask(self, tmp_path: Path) -> None:
        """The ConfigMap's filter.ini loads and hides PASSWORD under `logfilter run`; each of its rules matches."""
        ini = tmp_path / "filter.ini"
        ini.write_text(manifest("ConfigMap")["data"]["filter.ini"])
        result = run_logfilter("run", "-c", ini, stdin=message(CANARIES[0]))
        assert (result.returncode, result.stdout, result.stderr) == (0, message(b"****"), "")
