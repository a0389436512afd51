"""A throwaway model backend for tests/test_adding.py: answers the prompt's length modulo 100."""

from __future__ import annotations

from codemind.models.base import Backend
from codemind.schema import Generation


class PromptLengthBackend(Backend):
    name = "toy-length"

    def generate(self, requests):
        for r in requests:
            yield Generation(item_key=r.item_key, sample_index=r.sample_index, text=str(len(r.prompt) % 100),
                             finish_reason="stop")
