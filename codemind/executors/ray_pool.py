"""Chunks of work over a pool of Ray actors that survives the loss of nodes.

Each actor lives on a node that advertises the pool's custom resource and holds what is
expensive to start there (a warm sandbox pool, a loaded model). A chunk whose actor dies (its
node was lost, its process killed) is sent again to another actor, and a replacement actor is
asked for at once; a replacement takes chunks only once it has started, so work never waits
behind an actor that cannot be placed. Each chunk's result is taken once, from the first actor
that returns it: nothing is lost and nothing is counted twice. Actors are created with
max_restarts=0: a replacement is what Ray's restart would be, placed wherever the resource is
free, and a chunk in flight is retried here rather than by Ray, so its result is never taken
from a half-dead actor.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator, Sequence

from codemind.errors import UserError

MAX_ATTEMPTS = 4  # per chunk: a chunk that kills this many actors is a bug, not a lost node
IN_FLIGHT = 2  # chunks per actor: the next one is queued while one runs, hiding the round trip
REPLACE_TIMEOUT = 120.0  # seconds without any live actor before giving up


class ActorPool:
    """`make()` returns a new actor handle (options: resources, max_restarts=0); `size` of them
    are kept; `ready` is the name of a method every actor answers once it has started."""

    def __init__(self, make: Callable[[], Any], size: int, what: str, ready: str = "ready"):
        import ray

        self._ray = ray
        self.make = make
        self.size = size
        self.what = what  # "codemind_sandbox node": for messages
        self.ready_method = ready
        self.active: list[Any] = []
        self.starting: dict[Any, Any] = {}  # ready ref -> actor
        self.lost = 0  # actors that died
        self.retried = 0  # chunks sent again
        for _ in range(size):
            self._start_one()

    def _start_one(self) -> None:
        actor = self.make()
        self.starting[getattr(actor, self.ready_method).remote()] = actor

    def wait_started(self, timeout: float) -> list[Any]:
        """Block until every actor has started (their answers to `ready`), or raise."""
        refs = list(self.starting)
        done, pending = self._ray.wait(refs, num_returns=len(refs), timeout=timeout)
        answers = []
        for ref in done:
            actor = self.starting.pop(ref)
            answers.append(self._ray.get(ref))  # an actor that failed to start raises its error here
            self.active.append(actor)
        if pending:
            raise UserError(f"{len(pending)} of {self.size} actors needing a {self.what} did not start within "
                            f"{timeout:.0f} s")
        return answers

    def map(self, method: str, chunks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """(chunk index, result) for every chunk, in completion order; each exactly once."""
        ray = self._ray
        from ray.exceptions import ObjectLostError, RayActorError

        lost_errors = (RayActorError, ObjectLostError)  # the actor's node (or process) is gone
        queue = list(range(len(chunks)))[::-1]  # pop() takes the first chunk first
        attempts = [0] * len(chunks)
        inflight: dict[Any, tuple[int, Any]] = {}  # result ref -> (chunk, actor)
        load: dict[Any, int] = {}
        no_actor_since: float | None = None
        while queue or inflight:
            for actor in self.active:
                while queue and load.get(actor, 0) < IN_FLIGHT:
                    i = queue.pop()
                    attempts[i] += 1
                    inflight[getattr(actor, method).remote(chunks[i])] = (i, actor)
                    load[actor] = load.get(actor, 0) + 1
            if not self.active:
                no_actor_since = no_actor_since or time.monotonic()
                if time.monotonic() - no_actor_since > REPLACE_TIMEOUT:
                    raise RuntimeError(f"no {self.what} left in the Ray cluster: {len(queue)} chunks of work "
                                       f"waited {REPLACE_TIMEOUT:.0f} s for a replacement actor")
            else:
                no_actor_since = None
            refs = list(inflight) + list(self.starting)
            done, _ = ray.wait(refs, num_returns=1, timeout=5.0)
            for ref in done:
                if ref in self.starting:  # a replacement actor came up (or failed to)
                    actor = self.starting.pop(ref)
                    try:
                        ray.get(ref)
                    except lost_errors:
                        self._start_one()
                    else:
                        self.active.append(actor)
                    continue
                i, actor = inflight.pop(ref)
                load[actor] -= 1
                try:
                    result = ray.get(ref)
                except lost_errors:
                    if attempts[i] >= MAX_ATTEMPTS:
                        raise RuntimeError(f"a chunk of work was lost with {attempts[i]} actors in a row") from None
                    queue.append(i)
                    self.retried += 1
                    if actor in self.active:
                        self.active.remove(actor)
                        self.lost += 1
                        self._start_one()
                    continue
                yield i, result

    def close(self) -> None:
        for actor in [*self.active, *self.starting.values()]:
            try:
                self._ray.kill(actor)
            except Exception:  # already gone with its node
                pass
        self.active, self.starting = [], {}


def chunked(items: Sequence[Any], actors: int, per_actor: int, most: int) -> list[list[Any]]:
    """`items` in order, cut into chunks of about len/(actors*per_actor), at most `most` long."""
    if not items:
        return []
    size = max(1, min(most, -(-len(items) // max(1, actors * per_actor))))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]
