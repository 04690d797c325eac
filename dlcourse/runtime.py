"""Where tensors live and how random numbers are drawn.

Every demo in the book and every lab draws its random numbers on the CPU from an explicitly seeded
:class:`torch.Generator`, then moves the result to :func:`device`. The same seed therefore gives the
same numbers on a laptop CPU and on a GPU, and stored notebook outputs stay reproducible.

See the book: Weight initialization (the 100-layer experiments use these helpers).
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dlcourse._validate import check_choice, check_int

if TYPE_CHECKING:
    import torch

__all__ = ["device", "generator", "num_threads", "passive_omp", "seed"]


def passive_omp() -> bool:
    """Let idle OpenMP threads sleep instead of spin; call it before the first ``import torch``.

    PyTorch's OpenMP threads busy-wait for work by default. On a small machine shared with other
    processes (a notebook kernel beside the browser, test workers, the autograder's children) the
    spinning starves everyone else: a lab check that takes 0.6 s with sleeping threads took 7-11 s
    on two cores. OpenMP reads ``OMP_WAIT_POLICY`` once, when torch loads it, so this sets it to
    ``PASSIVE`` (unless it is already set: an explicit setting wins) and warns when torch is already
    imported and the setting comes too late. Where the environment already says ``PASSIVE``, as
    in the autograder's warm children, which find torch imported, all is well and nothing is said.
    Every lab's first cell calls it.

    Returns:
        True when the policy is in force for this process's torch, False when it came too late.
    """
    if os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE":
        return True  # set before this process started (as the autograder and `make` do)
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    if "torch" in sys.modules:
        warnings.warn(
            "passive_omp() was called after `import torch`, so OpenMP threads keep spinning: "
            "restart the kernel and run the first cell before anything imports torch",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    return True


def device() -> torch.device:
    """Return ``cuda`` when a GPU is present, otherwise ``cpu``.

    Set the environment variable ``DLCOURSE_DEVICE`` (``cpu`` or ``cuda``) to override the choice.
    """
    import torch

    wanted = os.environ.get("DLCOURSE_DEVICE")
    if wanted:
        check_choice("DLCOURSE_DEVICE", wanted, ("cpu", "cuda"))
        if wanted == "cuda" and not torch.cuda.is_available():
            raise ValueError("DLCOURSE_DEVICE='cuda' but no CUDA device is available: unset it")
        return torch.device(wanted)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def generator(seed: int) -> torch.Generator:
    """A CPU :class:`torch.Generator` seeded with ``seed``, to pass as ``generator=``.

    Args:
        seed: any int (``manual_seed`` folds negative ones into its range).

    Returns:
        A new generator on the CPU.

    See the book: Weight initialization.
    """
    import torch

    seed = check_int("seed", seed)
    return torch.Generator(device="cpu").manual_seed(seed)


def seed(value: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch, make kernels deterministic, return a seeded CPU generator.

    TF32 matrix products are switched off on GPUs so that results stay close to the CPU's float32.

    Args:
        value: the seed, a non-negative int.

    Returns:
        ``generator(value)``, for code that wants an explicit generator.
    """
    value = check_int("seed", value, min=0)
    import numpy as np
    import torch

    random.seed(value)
    np.random.seed(value % 2**32)
    torch.manual_seed(value)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    return generator(value)


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    """Run the ``with`` block on ``n`` intra-op threads, then restore the previous count.

    Small networks (a 30-layer, 128-wide MLP on the digits) train faster on one thread than on
    two: their matrix products are too small to share, and the threads' hand-offs cost more
    (2.4 s against 3.7 s for one of the chapter's runs on two cores).

    Args:
        n: the number of threads, at least 1.

    See the book: Weight initialization.
    """
    import torch

    check_int("n", n, min=1)
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
