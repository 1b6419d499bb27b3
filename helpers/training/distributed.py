"""Multi-process (DDP) awareness for ``torchrun`` / ``accelerate launch`` runs.

A launcher starts one copy of the program per device and tells each copy its place through
the ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` variables. These helpers read that place
(from ``torch.distributed`` once the process group exists, from the variables before), so code
can decide who writes files and prints summaries: only the main process (rank 0) should.
On a single process every helper is a no-op: rank 0, world size 1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def _env_int(name: str, default: int) -> int:
    """An integer launcher variable; a malformed value is an error naming the variable."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as err:
        raise ValueError(f"environment variable {name}={raw!r} is not an integer; unset it or fix the launcher") from err


def _initialized() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    """How many processes train together (1 without a launcher)."""
    if _initialized():
        import torch.distributed as dist

        return dist.get_world_size()
    return max(1, _env_int("WORLD_SIZE", 1))


def rank() -> int:
    """This process's global rank (0 without a launcher)."""
    if _initialized():
        import torch.distributed as dist

        return dist.get_rank()
    return _env_int("RANK", 0)


def is_main_process() -> bool:
    """True on the process that should write files and print summaries."""
    return rank() == 0


def barrier() -> None:
    """Wait until every process of the run gets here (a no-op on one process or before the process group exists)."""
    if world_size() > 1 and _initialized():
        import torch.distributed as dist

        dist.barrier()


@contextmanager
def main_process_first() -> Iterator[None]:
    """Run the enclosed block on rank 0 first; the other ranks wait, then run it.

    Use it around "prepare the data if missing" so only rank 0 writes the files and the
    others find them ready. It sets up accelerate's process group the way the Trainer's
    arguments will (CPU-only when there is no accelerator), so the Trainer reuses it later.
    Without a launcher it simply runs the block.
    """
    if world_size() == 1:
        yield
        return
    from accelerate import PartialState

    from helpers.training.modeling import device_name

    with PartialState(cpu=device_name() == "cpu").main_process_first():
        yield
