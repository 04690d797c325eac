"""Plain data across the boundary between student code and the grader.

Student code runs in a child process; tests and judging run in the grader. The two sides exchange
only plain data: ``None``, booleans, numbers, strings, lists, string-keyed dicts and NumPy arrays of
numbers. Arrays travel as ``.npy`` bytes read back with ``allow_pickle=False``, so nothing the
student's process sends can execute code in the grader.

Tests describe the *inputs* of a call with small specs that the child turns into real objects:
:func:`empty` (a tensor to fill in place), :func:`parameter` (an ``nn.Parameter`` that requires
grad, as a layer's weight is), :func:`seeded` (a seeded ``torch.Generator``) and :func:`tensor` (a
tensor with given values). The same specs and conversions serve the in-notebook
``check`` so that a student sees exactly what the autograder will see.
"""

from __future__ import annotations

import base64
import io
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlcourse._validate import check_choice, check_int

__all__ = [
    "CallInfo",
    "NotPlainData",
    "decode",
    "empty",
    "encode",
    "materialize",
    "parameter",
    "seeded",
    "tensor",
    "to_plain",
]

_SPEC = "__spec__"
_ARRAY = "__ndarray__"
_FLOAT = "__float__"
_DTYPES = ("float16", "bfloat16", "float32", "float64", "int32", "int64", "bool")


class NotPlainData(TypeError):
    """A value that cannot cross the boundary (an arbitrary object, a function, a module, ...)."""


@dataclass(frozen=True)
class CallInfo:
    """What one call of a student function gave back, as plain data.

    Attributes:
        value: the returned value, converted by :func:`to_plain`.
        args_after: each positional argument after the call (arrays for tensors, else ``None``),
            so tests can check that an initializer filled its tensor in place.
        returned_arg: the index of the positional argument that was returned itself (``return
            tensor``), or ``None`` when the function returned something else.
    """

    value: Any
    args_after: list
    returned_arg: int | None


def empty(*shape: int, dtype: str = "float32") -> dict:
    """Spec of an uninitialized tensor of ``shape``, created fresh in the student's process."""
    return {_SPEC: "empty", "shape": _shape("empty", shape), "dtype": _dtype("empty", dtype)}


def parameter(*shape: int, dtype: str = "float32") -> dict:
    """Spec of a fresh ``nn.Parameter`` of ``shape`` (``requires_grad=True``), as a layer's weight.

    An initializer that fills it in place outside ``torch.no_grad()`` raises in the student's
    process, exactly as it would on a real model's weight.
    """
    return {_SPEC: "parameter", "shape": _shape("parameter", shape),
            "dtype": _dtype("parameter", dtype)}


def _shape(where: str, shape: tuple) -> list[int]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return [check_int(f"{where}(): each size of the shape", s, min=0) for s in shape]


def _dtype(where: str, dtype: str) -> str:
    return check_choice(f"{where}(): dtype", dtype, _DTYPES)


def seeded(seed: int) -> dict:
    """Spec of a CPU ``torch.Generator`` seeded with ``seed``."""
    return {_SPEC: "generator", "seed": check_int("seeded(): seed", seed)}


def tensor(values: Any, dtype: str = "float32") -> dict:
    """Spec of a tensor holding ``values`` (anything ``numpy.asarray`` accepts)."""
    return {_SPEC: "tensor", "data": np.asarray(values), "dtype": _dtype("tensor", dtype)}


def materialize(spec: Any) -> Any:
    """Turn a spec (or plain data holding specs) into the objects a student function receives."""
    import torch

    if isinstance(spec, dict) and _SPEC in spec:
        kind = spec[_SPEC]
        if kind == "empty":
            return torch.empty(spec["shape"], dtype=getattr(torch, spec["dtype"]))
        if kind == "parameter":
            empty_ = torch.empty(spec["shape"], dtype=getattr(torch, spec["dtype"]))
            return torch.nn.Parameter(empty_, requires_grad=True)
        if kind == "generator":
            return torch.Generator(device="cpu").manual_seed(spec["seed"])
        if kind == "tensor":
            return torch.as_tensor(np.array(spec["data"]), dtype=getattr(torch, spec["dtype"]))
        raise ValueError(f"unknown argument spec {kind!r}")
    if isinstance(spec, list):
        return [materialize(s) for s in spec]
    if isinstance(spec, tuple):
        return tuple(materialize(s) for s in spec)
    if isinstance(spec, dict):
        return {k: materialize(v) for k, v in spec.items()}
    return spec


def to_plain(obj: Any, _depth: int = 0) -> Any:
    """Convert a student's return value into plain data, or raise :class:`NotPlainData`.

    Tensors become NumPy arrays (float32 stays float32), tuples become lists, NumPy scalars
    become Python numbers.
    """
    if _depth > 20:
        raise NotPlainData("the returned value is nested more than 20 levels deep")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise NotPlainData(f"an array of dtype {obj.dtype} cannot be graded; use numbers")
        return obj
    if type(obj).__module__.startswith("torch") and hasattr(obj, "detach"):
        t = obj.detach().cpu()
        if t.dtype.is_complex:
            raise NotPlainData("complex tensors cannot be graded")
        if str(t.dtype) == "torch.bfloat16":
            t = t.float()
        return t.numpy().copy()
    if isinstance(obj, (list, tuple)):
        return [to_plain(o, _depth + 1) for o in obj]
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise NotPlainData("a returned dict must have string keys")
        return {k: to_plain(v, _depth + 1) for k, v in obj.items()}
    raise NotPlainData(
        f"returned a {type(obj).__name__}; expected a tensor, an array, a number, a string, "
        "or a list/tuple/dict of those"
    )


def _encode_obj(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        buf = io.BytesIO()
        np.save(buf, obj, allow_pickle=False)
        return {_ARRAY: base64.b64encode(buf.getvalue()).decode("ascii")}
    if isinstance(obj, float) and not math.isfinite(obj):
        return {_FLOAT: repr(obj)}
    if isinstance(obj, dict):
        return {k: _encode_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encode_obj(v) for v in obj]
    return obj


def _decode_obj(obj: Any) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {_ARRAY}:
            raw = base64.b64decode(obj[_ARRAY].encode("ascii"), validate=True)
            arr = np.load(io.BytesIO(raw), allow_pickle=False)
            if arr.dtype.kind not in "biuf":
                raise NotPlainData(f"refusing an array of dtype {arr.dtype}")
            return arr
        if set(obj) == {_FLOAT}:
            if obj[_FLOAT] not in ("nan", "inf", "-inf"):
                raise NotPlainData(f"bad float marker {obj[_FLOAT]!r}")
            return float(obj[_FLOAT])
        return {k: _decode_obj(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_obj(v) for v in obj]
    return obj


def encode(obj: Any) -> str:
    """Serialize plain data (with arrays and non-finite floats) to one line of JSON."""
    return json.dumps(_encode_obj(obj), allow_nan=False, separators=(",", ":"))


def decode(line: str | bytes) -> Any:
    """Inverse of :func:`encode`. Only JSON and ``.npy`` arrays are parsed; nothing is executed."""
    return _decode_obj(json.loads(line))
