"""`vllm:` on `--executor ray`: Ray Data LLM batch inference, vLLM engine replicas across the
cluster's GPU nodes. NOT RUN: written against Ray 2.60's `ray.data.llm` API, but no GPU was
available where it was written, so no test exercises it (docs/distributed.md says so).

Every sample is its own row with its own seed (params.seed + sample_index, as the local vllm
backend), so answers do not depend on which replica or batch a row lands in beyond what vLLM
itself guarantees for seeded sampling. Replicas: `--model-arg`s are the engine's settings (as
for the local backend); the number of replicas is the cluster's GPU count divided by
tensor_parallel_size, decided here, not a setting, since it cannot change the answers.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from codemind.executors.ray_generate import ClusterBackend
from codemind.models.base import chat_messages
from codemind.models.vllm_offline import error_generation, sampling_kwargs
from codemind.schema import Generation, GenerationParams, GenRequest

BATCH_SIZE = 64


def request_row(index: int, req: GenRequest, params: GenerationParams, chat: bool) -> dict[str, Any]:
    """One request as a Ray Data row: messages (chat template applied by the processor) or a
    prompt, and its own sampling parameters."""
    sampling = {k: v for k, v in sampling_kwargs(params, req).items() if v is not None}
    row: dict[str, Any] = {"index": index, "sampling_params": sampling}
    if chat:
        row["messages"] = chat_messages(req)
    else:
        row["prompt"] = f"{req.system}\n\n{req.prompt}" if req.system else req.prompt
    return row


def row_generation(req: GenRequest, row: dict[str, Any]) -> Generation:
    """A processed row back as a Generation (a failed row is an api_error)."""
    error = row.get("__inference_error__")
    if error:
        return error_generation(req, f"vllm (ray data): {error}")
    return Generation(item_key=req.item_key, sample_index=req.sample_index, text=row.get("generated_text"),
                      finish_reason=row.get("finish_reason"), prompt_tokens=row.get("num_input_tokens"),
                      completion_tokens=row.get("num_generated_tokens"))


class RayDataVllmBackend(ClusterBackend):
    def generate(self, requests: Iterable[GenRequest]) -> Iterator[Generation]:
        todo = list(requests)
        if not todo:
            return
        import ray
        from ray.data.llm import build_processor, vLLMEngineProcessorConfig

        engine = {k: v for k, v in self.local.engine.items() if v is not None}  # type: ignore[attr-defined]
        gpus = self._executor.resource("GPU")
        replicas = max(1, gpus // max(1, int(engine.get("tensor_parallel_size", 1))))
        config = vLLMEngineProcessorConfig(
            model_source=self.model, engine_kwargs={**engine, "seed": self.params.seed or 0},
            batch_size=BATCH_SIZE, concurrency=replicas, should_continue_on_error=True,
            chat_template_stage=self.chat, tokenize_stage=True, detokenize_stage=True,
        )
        processor = build_processor(config)
        rows = [request_row(i, req, self.params, self.chat) for i, req in enumerate(todo)]
        for row in processor(ray.data.from_items(rows)).iter_rows():
            yield row_generation(todo[int(row["index"])], row)
