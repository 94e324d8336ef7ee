"""A recorder of what a loaded model is actually fed, taken from the model's own forward calls.

It hooks the transformer (a forward pre-hook, no change to the decoder) and
rebuilds, for every call and every batch row, the whole input the model
attends to: the ids since the cache was last started, pads left out (the
attention mask says which ids are real). That is the model's input at that
step, whatever the decoder did to get there.
"""

from __future__ import annotations

import torch


class ModelInputRecorder:
    """Per batch row, the full model input (list of ids) at every forward call that fed the row an id."""

    def __init__(self, loaded):
        self.loaded = loaded
        self.inputs: dict[int, list[list[int]]] = {}
        self.fresh_caches = 0
        self._current: dict[int, list[int]] = {}
        self._handle = None

    def __enter__(self) -> ModelInputRecorder:
        self._handle = self.loaded.model.base_model.register_forward_pre_hook(self._record, with_kwargs=True)
        return self

    def __exit__(self, *exc) -> None:
        self._handle.remove()

    def _record(self, module, args, kwargs) -> None:
        ids: torch.Tensor = kwargs["input_ids"]
        mask: torch.Tensor = kwargs["attention_mask"]
        width = ids.shape[1]
        if mask.shape[1] == width:  # nothing cached before this call: a new cache
            self._current = {b: [] for b in range(ids.shape[0])}
            self.fresh_caches += 1
        new_mask = mask[:, -width:]
        for b in range(ids.shape[0]):
            real = [int(t) for t, m in zip(ids[b].tolist(), new_mask[b].tolist()) if m]
            if not real:
                continue
            self._current[b].extend(real)
            self.inputs.setdefault(b, []).append(list(self._current[b]))
