"""Data-parallel training on ``torch.distributed`` (``data_parallel=True``): the process
group, this process's rank, the checks that every rank was given the same data and draws
the same numbers, the averages the training loop shares, and the DDP wrapper.

Every process of the group (one per GPU, or several on a CPU) runs the same script and fits
the same estimator on the same ``X``; all draw the same shuffle, each trains on its part of
every batch, and DDP averages the gradients, so the processes hold identical weights after
every step. Nothing here knows about estimators.
"""

import atexit
import gc
import os

import numpy as np
import torch

LAUNCH_ADVICE = (
    "launch the script once per process with torchrun (`torchrun --nproc-per-node 2 "
    "script.py`; one process per GPU), or call torch.distributed.init_process_group() "
    "before fitting"
)


def _dist():
    if not torch.distributed.is_available():
        raise RuntimeError(
            "data_parallel=True needs torch.distributed, which this build of PyTorch lacks."
        )
    return torch.distributed


def local_rank():
    """This process's index on its machine, as torchrun and ``accelerate launch`` set it."""
    return int(os.environ.get("LOCAL_RANK", 0))


def rank():
    """This process's rank in the group; 0 without one."""
    dist = torch.distributed
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def join(device):
    """``(rank, world_size)`` of the process group, set up from the launcher's environment
    variables if the script has not (NCCL for a CUDA ``device``, gloo otherwise).

    A group set up here is taken down when the interpreter exits: left to the interpreter's
    teardown, gloo's threads can abort the process after the script has finished.
    """
    dist = _dist()
    if not dist.is_initialized():
        if not {"RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"} <= set(os.environ):
            raise ValueError(
                f"data_parallel=True needs a torch.distributed process group: {LAUNCH_ADVICE}."
            )
        cuda = device.startswith("cuda")
        if cuda:
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if cuda else "gloo")
        atexit.register(_leave)
    return dist.get_rank(), dist.get_world_size()


def _leave():
    if torch.distributed.is_initialized():
        # free the DDP wrappers of finished fits (kept alive by reference cycles) while
        # their group still exists: destroyed after it, at the interpreter's teardown,
        # gloo's threads aborted about one run in twelve (2 processes, 2-core machine)
        gc.collect()
        torch.distributed.destroy_process_group()


def check_same_shape(shape, device):
    """ValueError on every rank unless all ranks were given data of ``shape``."""
    dist = _dist()
    mine = torch.tensor(shape, dtype=torch.int64, device=device)
    shapes = [torch.empty_like(mine) for _ in range(dist.get_world_size())]
    dist.all_gather(shapes, mine)
    shapes = [tuple(int(v) for v in s.tolist()) for s in shapes]
    for axis, what in ((1, "features"), (0, "rows")):
        if len({s[axis] for s in shapes}) > 1:
            found = ", ".join(f"rank {r}: {s[axis]}" for r, s in enumerate(shapes))
            raise ValueError(
                f"data_parallel=True: the ranks were given data with different numbers of "
                f"{what} ({found}). Every process must fit on the same X; each trains on "
                "its own part of every batch."
            )


def from_rank_zero(obj, device):
    """Rank 0's ``obj`` (any picklable object), on every rank."""
    box = [obj if rank() == 0 else None]
    _dist().broadcast_object_list(box, src=0, device=torch.device(device))
    return box[0]


def same_rng(rng, device):
    """A numpy RandomState in the state of rank 0's ``rng``, on every rank: the fit's
    draws (initial weights, validation rows, shuffles) are then the same everywhere, also
    with ``random_state=None``."""
    shared = np.random.RandomState()
    shared.set_state(from_rank_zero(rng.get_state(), device))
    return shared


def start_mean(value):
    """Start averaging the scalar tensor ``value`` over the ranks; returns a function that
    waits for the mean (a detached tensor). Every rank must start the same averages in the
    same order."""
    dist = _dist()
    value = value.detach().clone()
    work = dist.all_reduce(value, async_op=True)

    def mean():
        work.wait()
        return value / dist.get_world_size()

    return mean


def sum_over_ranks(values, device):
    """The sum of the numpy array ``values`` over the ranks (float64), on every rank."""
    tensor = torch.as_tensor(values, dtype=torch.float64, device=torch.device(device))
    _dist().all_reduce(tensor)
    return tensor.cpu().numpy()


def shard():
    """``(rank, world_size)`` of the group, the share of each batch this process trains on."""
    dist = _dist()
    return dist.get_rank(), dist.get_world_size()


def ddp(module, device):
    """``module`` wrapped for training in DistributedDataParallel (same parameters).

    ``static_graph``: the same parameters take part in every step, also those used outside
    the forward pass (the VAE's noise variance) or not at all (it, with ``loss="bce"``).
    """
    device = torch.device(device)
    ids = [device] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(
        module, device_ids=ids, static_graph=True, gradient_as_bucket_view=True
    )
