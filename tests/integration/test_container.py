"""The sidecar image, really built and run with podman, the way deploy/kubernetes/sidecar.yaml runs it.

No registry is reachable on the build machines, so the base image is made here with debootstrap
(cached, see `base_image`) and the project's wheels are built on the host into the build
context's wheelhouse (logfilter's with its scanner compiled here, where gcc is): the image is
then built with `--network none`, from the Containerfile users build with the default base, and
its build stage installs wheels only.

Needs root, podman, runc and debootstrap. Where they are missing the tests skip, saying why;
with LOGFILTER_REQUIRE_CONTAINER=1 (set by .ci/run) they fail instead.
"""

from __future__ import annotations

import hashlib
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT, run_logfilter
from tests.integration.test_containerfile import CONTAINERFILE, manifest
from tests.integration.test_follow import eventually, read

pytestmark = [pytest.mark.container, pytest.mark.slow]

REQUIRED = os.environ.get("LOGFILTER_REQUIRE_CONTAINER") == "1"
# crun and podman's default ulimits fail in this project's VMs; runc with no default ulimits works.
PODMAN = ("podman", "--runtime", "runc", "--cgroup-manager=cgroupfs")
CONTAINERS_CONF = "[containers]\ndefault_ulimits = []\n"

# The debootstrap base: what it is made of names its cache file and its image tag.
SUITE, VARIANT, PACKAGES = "bookworm", "minbase", ("python3", "python3-venv")
MIRROR = "http://deb.debian.org/debian"
BASE_RECIPE = " ".join((SUITE, VARIANT, platform.machine(), *sorted(PACKAGES)))
BASE_KEY = hashlib.sha256(BASE_RECIPE.encode()).hexdigest()[:16]
BASE_IMAGE = f"localhost/logfilter-test-base:{SUITE}-{BASE_KEY}"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "logfilter-container"
CACHED_ROOTFS = CACHE / f"debian-python-{SUITE}-{BASE_KEY}.tar"

UID = 10001  # the Containerfile's USER and the manifest's runAsUser
# One C message per n: PASSWORD and SSN (hidden by the ConfigMap's filter.ini) carry canaries.
MESSAGE = (
    "@10:26:01.5600 [0] 8.1.103.74 distribute_event: message EventRinging\n"
    "\tAttributeThisDN\t'{n}'\n"
    "\tAttributeUserData\t[561] 00 14 00 00..\n"
    "\t\t'PASSWORD'\t'CanaryPw{n}x'\n"
    "\t\t'SSN'\t'CanarySsn{n}x'\n"
    "\t\t'RTenant'\t'Resources'\n"
    "\tAttributeConnID\t006c029a6685d004\n"
    "12:00:00.{n:03d} Std 00000 event {n} done\n"
)
CANARY = b"Canary"
SEGMENTS = [f"SIPServer.20261122_1015{second:02d}_123.log" for second in range(3)]


def messages(start: int, count: int) -> bytes:
    return "".join(MESSAGE.format(n=n) for n in range(start, start + count)).encode()


def unavailable(reason: str) -> NoReturn:
    """Skip: this machine cannot build or run the image. Fail instead where CI requires the test."""
    if REQUIRED:
        pytest.fail(f"LOGFILTER_REQUIRE_CONTAINER=1, but {reason}")
    pytest.skip(reason)


class Podman:
    """The podman command line as it works on these machines, with its own containers.conf."""

    def __init__(self, conf: Path) -> None:
        conf.write_text(CONTAINERS_CONF)
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}

    def run(
        self, *args: str | Path, stdin: int | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*PODMAN, *map(str, args)], env=self.env, stdin=stdin, capture_output=True,
                              text=True, timeout=timeout, check=False)  # fmt: skip

    def __call__(self, *args: str | Path, timeout: float = 300) -> str:
        """Run podman; its stdout, or the test fails with its stderr."""
        done = self.run(*args, timeout=timeout)
        command = " ".join(map(str, args))
        assert done.returncode == 0, f"podman {command}: exit {done.returncode}\n{done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Podman:
    if shutil.which("podman") is None:
        unavailable("podman is not installed (apt-get install podman runc debootstrap)")
    if os.geteuid() != 0:
        unavailable("the container test runs rootful podman and debootstrap: run it as root")
    engine = Podman(tmp_path_factory.mktemp("podman") / "containers.conf")
    info = engine.run("info", timeout=60)
    if info.returncode != 0:
        unavailable(f"`podman info` fails: {info.stderr.strip()[-500:]}")
    return engine


def make_rootfs_tarball(scratch: Path) -> None:
    """debootstrap the base into `scratch`, then write CACHED_ROOTFS atomically (a killed run leaves
    no tarball that looks complete; a part file is named by the pid that writes it)."""
    if shutil.which("debootstrap") is None:
        unavailable(f"no cached base ({CACHED_ROOTFS}) and debootstrap is not installed")
    rootfs, log = scratch / "rootfs", scratch / "debootstrap.log"
    with log.open("wb") as sink:
        command = ["debootstrap", f"--variant={VARIANT}", f"--include={','.join(PACKAGES)}",
                   SUITE, str(rootfs), MIRROR]  # fmt: skip
        done = subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT, check=False)
    assert done.returncode == 0, f"debootstrap failed:\n{log.read_text()[-3000:]}"
    # Downloaded packages and package lists: nothing the image needs, half the size.
    for clutter in [*rootfs.glob("var/cache/apt/archives/*.deb"), *rootfs.glob("var/cache/apt/*.bin"),
                    *(path for path in rootfs.glob("var/lib/apt/lists/*") if path.is_file())]:  # fmt: skip
        clutter.unlink()
    CACHE.mkdir(parents=True, exist_ok=True)
    for stale in CACHE.glob(f".{CACHED_ROOTFS.name}.part-*"):
        pid = int(stale.name.rpartition("-")[2])
        if not Path(f"/proc/{pid}").exists():
            stale.unlink(missing_ok=True)
    part = CACHE / f".{CACHED_ROOTFS.name}.part-{os.getpid()}"
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(part), "."], check=True)
    part.rename(CACHED_ROOTFS)
    shutil.rmtree(rootfs)


@pytest.fixture(scope="module")
def base_image(podman: Podman, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Debian `SUITE` with python3, from podman's store, else from the cached tarball, else made anew."""
    if podman.run("image", "exists", BASE_IMAGE).returncode == 0:
        return BASE_IMAGE
    if not CACHED_ROOTFS.is_file():
        make_rootfs_tarball(tmp_path_factory.mktemp("debootstrap"))
    with CACHED_ROOTFS.open("rb") as tarball:
        done = podman.run("import", "-", BASE_IMAGE, stdin=tarball.fileno())
    assert done.returncode == 0, f"podman import {CACHED_ROOTFS}: {done.stderr}"
    return BASE_IMAGE


@pytest.fixture(scope="module")
def image(podman: Podman, base_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The image built from the Containerfile with `--network none` on the debootstrap base, from a
    context holding what the Containerfile copies and a wheelhouse made on this host."""
    found = podman("run", "--rm", "--network", "none", base_image, "python3", "-c",
                   "import sys; print('%d.%d' % sys.version_info[:2])").strip()  # fmt: skip
    here = "{}.{}".format(*sys.version_info[:2])
    if found != here:
        unavailable(f"the wheelhouse is built by this Python ({here}); the base image has Python {found}")
    context = tmp_path_factory.mktemp("context")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, context / name)
    for name in ("logfilter", "grammars", "wheelhouse"):  # no scanner built in place here: the wheel compiles its own
        shutil.copytree(ROOT / name, context / name, ignore=shutil.ignore_patterns("__pycache__", "*.whl", "*.so", "*.c"))
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(context / "wheelhouse"),
               str(context)]  # fmt: skip
    wheels = subprocess.run(command, capture_output=True, text=True, check=False)
    assert wheels.returncode == 0, f"pip wheel: {wheels.stderr}"
    tag = f"localhost/logfilter-test:{os.getpid()}"
    build = podman.run("build", "--network", "none", "--layers=false", "--build-arg", f"BASE={base_image}",
                       "--tag", tag, "--file", CONTAINERFILE, context, timeout=600)  # fmt: skip
    assert build.returncode == 0, f"podman build failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    assert "installing from ./wheelhouse only" in build.stdout, build.stdout
    try:
        yield tag
    finally:
        podman.run("rmi", "--force", tag)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Sidecar:
    """Containers of the image over one set of host folders: raw (read-only), clean, state, config."""

    def __init__(self, podman: Podman, image: str, tmp: Path) -> None:
        self.podman, self.image = podman, image
        self.raw, self.clean, self.state = tmp / "raw", tmp / "clean", tmp / "state"
        self.config = tmp / "config"  # a folder, mounted as the pod mounts its ConfigMap
        for folder in (self.raw, self.clean, self.state, self.config):
            folder.mkdir()
        for folder in (self.clean, self.state):  # what fsGroup does in the pod
            os.chown(folder, UID, UID)
        (self.config / "filter.ini").write_text(manifest("ConfigMap")["data"]["filter.ini"])
        self.names: list[str] = []
        self.port = 0
        self._expected: dict[tuple[str, int], bytes] = {}  # by name and size: the raw files only grow

    def start(self) -> str:
        """A new container, run with the manifest's user, limits and mounts and the image's own command."""
        name = f"logfilter-test-{os.getpid()}-{len(self.names)}"
        self.names.append(name)
        self.port = free_port()
        self.podman(
            "run", "--detach", "--name", name,
            "--user", f"{UID}:{UID}", "--read-only", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--memory", "256m", "--cpus", "1",
            "--volume", f"{self.raw}:/logs/raw:ro", "--volume", f"{self.clean}:/logs/clean",
            "--volume", f"{self.state}:/state", "--volume", f"{self.config}:/etc/logfilter:ro",
            "--publish", f"127.0.0.1:{self.port}:9464", self.image,
        )  # fmt: skip
        answers = lambda: self.get("/healthz")[0] == 200 or not self.running(name)  # noqa: E731
        eventually(answers, timeout=30, what="/healthz")
        assert self.running(name), f"{name} exited at start:\n{self.logs(name)}"
        return name

    def running(self, name: str) -> bool:
        return self.podman("inspect", "--format", "{{.State.Running}}", name).strip() == "true"

    def logs(self, name: str) -> str:
        """What the container wrote (podman logs gives its stdout on stdout, its stderr on stderr)."""
        done = self.podman.run("logs", name)
        return done.stdout + done.stderr

    def get(self, path: str) -> tuple[int, str]:
        """GET from the host through the published port; (0, reason) while nothing answers."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            return 0, str(exc)

    def metrics(self) -> dict[str, float]:
        """The /metrics samples, by name with labels (`logfilter_values_masked_total{filter_type="hide"}`)."""
        status, text = self.get("/metrics")
        assert status == 200, text
        found = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f'{key}="{value}"' for key, value in sorted(sample.labels.items()))
                found[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
        return found

    def stop(self, name: str) -> int:
        """`podman stop` (SIGTERM, 20 s grace as the pod's 30): the container's exit code."""
        self.podman("stop", "--time", "20", name, timeout=60)
        return int(self.podman("inspect", "--format", "{{.State.ExitCode}}", name))

    def remove_all(self) -> None:
        for name in self.names:
            self.podman.run("rm", "--force", name)

    def expected(self, name: str) -> bytes:
        """What `logfilter run` with the same rules makes of the raw file: the output must equal it."""
        key = (name, (self.raw / name).stat().st_size)
        if key not in self._expected:
            result = run_logfilter("run", "-c", self.config / "filter.ini", self.raw / name)
            assert result.returncode == 0, result.stderr
            self._expected[key] = result.stdout
        return self._expected[key]

    def settled(self) -> bool:
        return all(read(self.clean / path.name) == self.expected(path.name) for path in self.raw.iterdir())


class Writer(threading.Thread):
    """A Genesys server's logging: messages appended in pieces of any size (a line may be cut anywhere),
    with short pauses, each batch to its segment; a new segment is the rotation."""

    def __init__(self, batches: list[tuple[Path, bytes]], seed: int) -> None:
        super().__init__(name="genesys-writer", daemon=True)
        self.batches, self.random = batches, random.Random(seed)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for path, data in self.batches:
                with path.open("ab", buffering=0) as log:
                    at = 0
                    while at < len(data):
                        step = self.random.randint(1, 600)
                        log.write(data[at : at + step])
                        at += step
                        time.sleep(self.random.uniform(0, 0.05))
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
            self.error = exc

    def finish(self) -> None:
        self.join(timeout=60)
        assert not self.is_alive() and self.error is None, f"the writer failed: {self.error!r}"


@pytest.fixture
def sidecar(podman: Podman, image: str, tmp_path: Path) -> Iterator[Sidecar]:
    pod = Sidecar(podman, image, tmp_path)
    try:
        yield pod
    finally:  # no container outlives its test, whatever failed
        pod.remove_all()


class TestImage:
    def test_image_settings(self, podman: Podman, image: str) -> None:
        """The built image runs as UID 10001 with no pip anywhere, and logfilter is the venv's."""
        config = orjson.loads(podman("image", "inspect", "--format", "{{json .Config}}", image))
        assert config["User"] == f"{UID}:{UID}"
        assert config["Entrypoint"] == ["logfilter", "follow"]
        script = ("import os, shutil, importlib.util as u; "
                  "print(os.getuid(), os.getgid(), shutil.which('logfilter'), "
                  "u.find_spec('pip'))")  # fmt: skip
        out = podman("run", "--rm", "--read-only", "--network", "none",
                     "--entrypoint", "/opt/venv/bin/python", image, "-c", script)  # fmt: skip
        assert out.split() == [str(UID), str(UID), "/opt/venv/bin/logfilter", "None"]
        system = podman("run", "--rm", "--network", "none", "--entrypoint", "python3", image,
                        "-c", "import importlib.util as u; print(u.find_spec('pip'))")  # fmt: skip
        assert system.strip() == "None"

    def test_compiled_scanner_and_no_compiler(self, podman: Podman, image: str) -> None:
        """The image masks with the compiled scanner (built outside it), and carries no C compiler."""
        script = ("import shutil, logfilter.engines.scanner as s; "
                  "print(s.__file__.endswith('.so'), shutil.which('gcc'), shutil.which('cc'))")  # fmt: skip
        out = podman("run", "--rm", "--read-only", "--network", "none",
                     "--entrypoint", "/opt/venv/bin/python", image, "-c", script)  # fmt: skip
        assert out.split() == ["True", "None", "None"]

    def test_sidecar_follows_stops_and_resumes(self, sidecar: Sidecar) -> None:
        """As in the pod: masked copies appear while segments grow and rotate, /healthz and /metrics
        answer from the host, SIGTERM exits 0 with a final checkpoint, and a new container resumes
        there: every message once, nothing read twice."""
        first, second, third = (sidecar.raw / name for name in SEGMENTS)
        first.write_bytes(messages(0, 5))  # there before the first start: read from its first byte
        name = sidecar.start()
        eventually(sidecar.settled, timeout=30, what="the first segment's existing messages")
        writer = Writer([(first, messages(5, 20)), (second, messages(25, 15))], seed=10)
        writer.start()
        writer.finish()
        eventually(sidecar.settled, timeout=30, what="both segments masked in full")

        assert sidecar.get("/healthz") == (200, "following\n")
        metrics = sidecar.metrics()
        assert metrics["logfilter_messages_total"] == 40
        assert metrics["logfilter_input_bytes_total"] == first.stat().st_size + second.stat().st_size
        assert metrics['logfilter_values_masked_total{filter_type="hide"}'] == 80  # PASSWORD and SSN
        assert metrics["logfilter_files_followed"] == 2
        assert metrics["logfilter_healthy"] == 1

        assert sidecar.stop(name) == 0, sidecar.logs(name)
        state = orjson.loads((sidecar.state / "follow.json").read_bytes())
        saved = {entry["path"]: entry for entry in state["files"]}
        for path in (first, second):  # the final checkpoint: every byte read, every message out
            entry = saved[f"/logs/raw/{path.name}"]
            assert entry["offset"] == path.stat().st_size
            assert entry["out"] == (sidecar.clean / path.name).stat().st_size

        # While no container runs, the server goes on: the second segment grows, a third appears.
        done = first.stat().st_size + second.stat().st_size
        with second.open("ab") as log:
            log.write(messages(40, 10))
        third.write_bytes(messages(50, 10))
        name = sidecar.start()
        writer = Writer([(third, messages(60, 10))], seed=11)
        writer.start()
        writer.finish()
        eventually(sidecar.settled, timeout=30, what="all three segments masked in full after the restart")
        metrics = sidecar.metrics()
        assert metrics["logfilter_messages_total"] == 30  # only what came after the checkpoint
        total = sum(path.stat().st_size for path in (first, second, third))
        assert metrics["logfilter_input_bytes_total"] == total - done
        assert sidecar.stop(name) == 0, sidecar.logs(name)

        assert sorted(path.name for path in sidecar.clean.iterdir()) == SEGMENTS  # no part files left
        logs = [sidecar.logs(item) for item in sidecar.names]
        assert all("logfilter: stopped:" in text for text in logs), logs
        outputs = [path.read_bytes() for path in [*sidecar.clean.iterdir(), sidecar.state / "follow.json"]]
        assert not any(CANARY in data for data in [*outputs, *map(str.encode, logs)])


def readme_recipe() -> list[str]:
    """The README's `podman run` command for the image, as written (issue 20.9), in words."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = next(number for number, line in enumerate(lines) if line.strip().startswith("podman run --rm"))
    command = ""
    for line in lines[start:]:
        command += line.strip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            break
    return command.split()


class TestRecipe:
    def test_labels_hold_no_placeholder(self, podman: Podman, image: str) -> None:
        """Issue 20.9: the image's labels say nothing a user would have to replace."""
        labels = orjson.loads(podman("image", "inspect", "--format", "{{json .Config.Labels}}", image))
        assert labels["org.opencontainers.image.title"] == "logfilter"
        assert not [value for value in labels.values() if "REPLACE-ME" in value or "example.com" in value], labels

    def test_the_readme_recipe_works_on_folders_just_made(self, podman: Podman, image: str, tmp_path: Path) -> None:
        """Issue 20.9: the README's `podman run`, on folders the user just made (owned by the user,
        not by the image's UID 10001), follows and masks; before, it stopped at the lock file."""
        recipe = readme_recipe()
        assert recipe[:2] == ["podman", "run"] and recipe[-1] == "logfilter", recipe
        for folder in ("raw", "clean", "state"):
            (tmp_path / folder).mkdir()
        (tmp_path / "filter.ini").write_text(manifest("ConfigMap")["data"]["filter.ini"])
        (tmp_path / "raw" / SEGMENTS[0]).write_bytes(messages(0, 3))
        port = free_port()
        name = f"logfilter-recipe-{os.getpid()}"
        args = [arg.replace("127.0.0.1:9464:", f"127.0.0.1:{port}:") for arg in recipe[2:-1] if arg != "--rm"]
        started = subprocess.run([*PODMAN, "run", "--detach", "--name", name, *args, image], cwd=tmp_path,
                                 env=podman.env, capture_output=True, text=True, check=False)  # fmt: skip
        try:
            assert started.returncode == 0, started.stderr
            expected = run_logfilter("run", "-c", tmp_path / "filter.ini", tmp_path / "raw" / SEGMENTS[0]).stdout
            output = tmp_path / "clean" / SEGMENTS[0]
            eventually(lambda: read(output) == expected or podman.run("inspect", "--format", "{{.State.Running}}",
                       name).stdout.strip() != "true", timeout=30, what="the masked copy")  # fmt: skip
            logs = podman.run("logs", name)
            assert read(output) == expected, logs.stdout + logs.stderr
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                assert response.status == 200
            podman("stop", "--time", "20", name, timeout=60)
            assert podman("inspect", "--format", "{{.State.ExitCode}}", name).strip() == "0"
            assert (tmp_path / "state" / "follow.json").is_file()
        finally:
            podman.run("rm", "--force", name)
