"""A real Ray cluster on this machine, for tests and benchmarks/perf/ray.py: a head and worker
nodes, each a `ray start --block` process in its own session, on its own loopback address
(head 127.0.0.2, workers 127.0.0.3, .4, ...: Ray replaces 127.0.0.1 by the machine's outward
address, any other loopback address it keeps, so nothing leaves the loopback interface), with
its own temp dir (nothing is shared with a cluster at /tmp/ray).

A node is lost the way a machine is: `kill_worker` SIGKILLs every process of its session
(raylet, agents, its Ray workers and so the actors on it). `stop` kills every node the same way,
so nothing outlives the test that made the cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START_TIMEOUT = 120.0


def ray_command() -> list[str]:
    """`ray` run by this interpreter (workers then run this interpreter too)."""
    script = Path(sys.executable).with_name("ray")
    if not script.is_file():
        found = shutil.which("ray")
        if not found:
            raise RuntimeError("no `ray` command beside this interpreter or on PATH")
        script = Path(found)
    return [sys.executable, str(script)]


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _session_pids(sid: int) -> list[int]:
    """Every live process of session `sid` (the node's processes; Ray workers have their own
    process groups but stay in the session)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 3 and int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry))
    return pids


class LocalRayCluster:
    def __init__(self, worker_resources: dict[str, float] | None = None, cpus_per_node: int = 1):
        self.worker_resources = worker_resources or {"codemind_sandbox": 1}
        self.cpus = cpus_per_node
        self.dir = Path(tempfile.mkdtemp(prefix="cmray-", dir="/tmp"))
        self.head_ip = "127.0.0.2"
        self.port = _free_port(self.head_ip)
        self.address = f"{self.head_ip}:{self.port}"
        self.nodes: list[subprocess.Popen] = []  # [head, worker 1, worker 2, ...]
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "w")
        cmd = [*ray_command(), "start", "--block", "--disable-usage-stats", "--num-cpus", str(self.cpus),
               "--object-store-memory", "100000000", *args]
        proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        self.nodes.append(proc)
        deadline = time.monotonic() + START_TIMEOUT
        while "Ray runtime started" not in (self.dir / f"{name}.log").read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray node {name} did not start:\n"
                                   + (self.dir / f"{name}.log").read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        return proc

    def start_head(self) -> "LocalRayCluster":
        self._start("head", ["--head", "--node-ip-address", self.head_ip, "--port", str(self.port),
                             "--include-dashboard=false", "--temp-dir", str(self.dir / "ray"),
                             "--resources", json.dumps({k: 0 for k in self.worker_resources})])
        return self

    def add_worker(self) -> subprocess.Popen:
        """One more worker node (nodes start one at a time: two raylets starting at once on one
        machine race for the same socket names)."""
        n = len(self.nodes)
        return self._start(f"worker{n}", ["--address", self.address, "--node-ip-address", f"127.0.0.{2 + n}",
                                          "--resources", json.dumps(self.worker_resources)])

    def wait_resources(self, resource: str, total: float, timeout: float = START_TIMEOUT) -> None:
        """Until the cluster counts `total` of `resource` (every worker registered), from a
        short-lived driver of our own."""
        import ray

        ray.init(address=self.address, logging_level="ERROR", log_to_driver=False)
        try:
            deadline = time.monotonic() + timeout
            while ray.cluster_resources().get(resource, 0) != total:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cluster has {ray.cluster_resources().get(resource, 0)} {resource}, "
                                       f"expected {total}")
                time.sleep(0.3)
        finally:
            ray.shutdown()

    def kill_node(self, proc: subprocess.Popen) -> int:
        """SIGKILL every process of the node's session; returns how many there were."""
        pids = _session_pids(proc.pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=30)
        return len(pids)

    def stop(self) -> None:
        for proc in reversed(self.nodes):
            self.kill_node(proc)
        self.nodes = []
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "LocalRayCluster":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
