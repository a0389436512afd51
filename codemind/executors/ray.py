"""`--executor ray[:ADDRESS]`: sandbox jobs and generation on a Ray cluster.

- Sandbox jobs go to one actor per unit of the custom resource `codemind_sandbox` (a node
  started with `--resources '{"codemind_sandbox": 1}'`); each actor opens that node's own
  sandbox (its Docker engine and warm pool) and runs job chunks (RaySandbox). Every node's
  sandbox must have the same identity as each other (checked at start), and the facade reports
  that identity, so execution-cache keys are those of a local run with that sandbox.
- Generation: `llamacpp:` runs on one actor per unit of `codemind_model`, one model each
  (ray_generate.ActorPoolBackend); `vllm:` through Ray Data LLM (ray_vllm); other backends
  (`openai:`, `replay:`) run on the driver as they do locally.
- The driver alone writes the run directory and the execution and generation caches; actors
  only return results. A node lost mid-run costs its in-flight chunks, which are sent again to
  the other nodes (ray_pool.ActorPool).

Ray is the optional extra `codemind[ray]`; without it, or with an address that does not
answer, opening the executor is one line of error (exit 2).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from typing import Any, Sequence

from codemind.errors import UserError
from codemind.executors.base import Executor
from codemind.executors.ray_pool import ActorPool, chunked
from codemind.models.base import Backend
from codemind.registry import Registry
from codemind.sandbox.base import Progress, Sandbox
from codemind.schema import ExecJob, Execution, GenerationParams

SANDBOX_RESOURCE = "codemind_sandbox"
MODEL_RESOURCE = "codemind_model"
EXTRA_HINT = "pip install 'codemind[ray]'"
CONNECT_TIMEOUT = 5.0  # seconds for the cluster's address to accept a connection
START_TIMEOUT = 300.0  # seconds for every node's sandbox (containers) or model to start
JOBS_PER_CHUNK = 256  # at most; fewer when a batch is small, so every node gets work

# Backends whose generation the cluster spreads; the others run on the driver.
RAY_BACKENDS: Registry[type] = Registry("Ray generation backend")
RAY_BACKENDS.register("llamacpp", lazy="codemind.executors.ray_generate:ActorPoolBackend")
RAY_BACKENDS.register("vllm", lazy="codemind.executors.ray_vllm:RayDataVllmBackend")


def _import_ray():
    try:
        import ray
    except ImportError:
        raise UserError(f"--executor ray needs Ray, which is not installed: {EXTRA_HINT}") from None
    return ray


def _check_reachable(address: str) -> None:
    """A HOST:PORT address must accept a TCP connection before Ray is asked (ray.init retries an
    unreachable address for a long time and logs as it does)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise UserError(f"--executor ray:ADDRESS expects HOST:PORT (the head's GCS port), not {address!r}")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as e:
        raise UserError(f"cannot reach the Ray cluster at {address}: {e.strerror or e}") from None


def _last_started() -> str:
    """`--executor ray` without an address: the cluster `ray start` last started on this machine
    (what ray.init("auto") would try, forever if it is gone)."""
    from ray._private.services import find_bootstrap_address

    found = find_bootstrap_address(None)
    if not found:
        raise UserError("--executor ray found no Ray cluster started on this machine: give its address "
                        "(--executor ray:HOST:PORT) or set RAY_ADDRESS")
    return found


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, address: str | None = None):
        ray = _import_ray()
        self.address = address or os.environ.get("RAY_ADDRESS") or _last_started()
        if not self.address.startswith("ray://"):
            _check_reachable(self.address)
        try:
            ray.init(address=self.address, logging_level=logging.ERROR, log_to_driver=False,
                     ignore_reinit_error=True)
        except Exception as e:  # ConnectionError, or a cluster of another Ray version
            raise UserError(f"cannot connect to the Ray cluster at {self.address}: {str(e).splitlines()[0]}") from None
        self._ray = ray
        self._pools: list[ActorPool] = []  # every pool started: what was lost is said at close

    def resource(self, name: str) -> int:
        return int(self._ray.cluster_resources().get(name, 0))

    def pool(self, host: type, args: tuple, resource: str, what: str) -> ActorPool:
        """One actor of `host` per unit of `resource` in the cluster, each started (or a UserError)."""
        size = self.resource(resource)
        if size < 1:
            raise UserError(f"no node of the Ray cluster at {self.address} advertises the {resource} resource "
                            f"(start nodes with --resources '{{\"{resource}\": 1}}')")
        remote = self._ray.remote(host).options(resources={resource: 1}, num_cpus=0, max_restarts=0)
        pool = ActorPool(lambda: remote.remote(*args), size, what=f"{resource} node")
        try:
            started = pool.wait_started(START_TIMEOUT)
        except self._ray.exceptions.RayError as e:
            pool.close()
            cause = getattr(e, "cause", None) or e
            raise UserError(f"{what} could not start on the Ray cluster: {str(cause).splitlines()[0]}") from None
        except BaseException:
            pool.close()
            raise
        identities = {repr(sorted(s["identity"].items())) for s in started}
        if len(identities) > 1:
            pool.close()
            hosts = ", ".join(sorted({s["host"] for s in started}))
            raise UserError(f"the {what} differs between the Ray cluster's nodes ({hosts}); results from "
                            "different sandboxes or models are never mixed: give every node the same one")
        pool.identity = started[0]["identity"]  # type: ignore[attr-defined]
        self._pools.append(pool)
        return pool

    def open_sandbox(self, name: str, workers: int | None) -> Sandbox:
        return RaySandbox(self, name, workers)

    def make_backend(self, cls: type[Backend], model: str, params: GenerationParams, options: dict[str, Any]) -> Backend:
        if cls.name in RAY_BACKENDS:
            return RAY_BACKENDS.get(cls.name)(self, cls, model, params, options)
        return cls(model, params, **options)

    def identity(self) -> dict:
        ray = self._ray
        return {"executor": self.name, "address": self.address, "ray": ray.__version__,
                "nodes": sum(1 for n in ray.nodes() if n.get("Alive")),
                SANDBOX_RESOURCE: self.resource(SANDBOX_RESOURCE), MODEL_RESOURCE: self.resource(MODEL_RESOURCE)}

    def close(self) -> None:
        lost, retried = sum(p.lost for p in self._pools), sum(p.retried for p in self._pools)
        if lost:
            print(f"ray: {lost} actor(s) lost with their nodes; {retried} chunk(s) of their work ran again "
                  "on other nodes", file=sys.stderr)
        if self._ray.is_initialized():
            self._ray.shutdown()


class RaySandbox(Sandbox):
    """The nodes' sandboxes as one: run() ships job chunks to them and returns the results in
    job order. Its identity is theirs, so executions are content-addressed as on one machine."""

    def __init__(self, executor: RayExecutor, name: str, workers: int | None):
        from codemind.executors.ray_actors import SandboxHost

        self.name = name
        self.pool = executor.pool(SandboxHost, (name, workers), SANDBOX_RESOURCE, f"the {name} sandbox")
        self._identity = self.pool.identity  # type: ignore[attr-defined]

    def identity(self) -> dict:
        return dict(self._identity)

    def run(self, jobs: Sequence[ExecJob], progress: Progress | None = None) -> list[Execution]:
        chunks = chunked(jobs, len(self.pool.active) or 1, per_actor=4, most=JOBS_PER_CHUNK)
        out: list[list[Execution] | None] = [None] * len(chunks)
        for i, result in self.pool.map("run", chunks):
            out[i] = result
            if progress is not None:
                progress(len(result))
        return [e for chunk in out for e in chunk]  # type: ignore[union-attr]

    def close(self) -> None:
        self.pool.close()
