"""A backend whose model runs on a pool of Ray actors, one model per actor (`llamacpp:` on
`--executor ray`): requests go out in chunks, generations come back as each chunk finishes.

Why the answers are those of the local backend: a llama.cpp request's output depends only on
the request (the backend starts each one from an empty context or the shared prefix state,
whose rows are computed as in a whole-prompt evaluation: models/llamacpp.py), not on which
requests share its chunk or its process; every actor's backend must report the driver's
identity (model sha256, n_ctx, chat format, llama_cpp version), checked when the pool starts.
The generation cache stays on the driver (CachedBackend wraps this backend as any other).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Iterator

from codemind.errors import UserError
from codemind.executors.ray_pool import chunked
from codemind.models.base import Backend, Capabilities
from codemind.schema import Generation, GenerationParams, GenRequest

if TYPE_CHECKING:
    from codemind.executors.ray import RayExecutor

REQUESTS_PER_CHUNK = 16  # at most: a lost node costs this many generations per chunk in flight


class ClusterBackend(Backend):
    """A backend `cls` whose generation runs on the cluster: the driver keeps a copy that is
    never loaded, for option checks, identity and capabilities (what the cache key and the
    manifest record are the local backend's)."""

    def __init__(self, executor: "RayExecutor", cls: type[Backend], model: str, params: GenerationParams,
                 options: dict[str, Any]):
        self.local = cls(model, params, **options)
        self.name, self.chat, self.model = self.local.name, self.local.chat, self.local.model
        self.params, self.options = params, self.local.options
        self._executor, self._cls = executor, cls

    @property
    def capabilities(self) -> Capabilities:
        return self.local.capabilities

    def identity(self) -> dict:
        return self.local.identity()


class ActorPoolBackend(ClusterBackend):
    _pool = None

    def pool(self):
        """The actors, started on first use (a run whose generations are all cached starts none)."""
        if self._pool is None:
            from codemind.executors.ray import MODEL_RESOURCE
            from codemind.executors.ray_actors import BackendHost

            pool = self._executor.pool(BackendHost, (self._cls, self.model, self.params, self.options),
                                       MODEL_RESOURCE, f"model {self.name}:{self.model}")
            if pool.identity != self.identity():  # type: ignore[attr-defined]
                pool.close()
                raise UserError(f"model {self.name}:{self.model} on the Ray cluster's nodes is not the driver's "
                                f"({pool.identity} != {self.identity()}): install the same versions everywhere")
            self._pool = pool
        return self._pool

    def generate(self, requests: Iterable[GenRequest]) -> Iterator[Generation]:
        todo = list(requests)
        if not todo:
            return
        pool = self.pool()
        chunks = chunked(todo, len(pool.active), per_actor=2, most=REQUESTS_PER_CHUNK)
        for _, generations in pool.map("generate", chunks):
            yield from generations

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        self.local.close()
