"""Plain data across the boundary between student code and the grader.

Student code runs in a child process; tests and judging run in the grader. The two sides exchange
only plain data: ``None``, booleans, numbers, strings, lists, string-keyed dicts and NumPy arrays of
numbers. Each message is one frame (:func:`encode`): a JSON header, then the arrays' raw bytes,
read back as numeric arrays only, so nothing the student's process sends can execute code in the
grader.

Tests describe the *inputs* of a call with small specs that the child turns into real objects:
:func:`empty` (a tensor to fill in place), :func:`parameter` (an ``nn.Parameter`` that requires
grad, as a layer's weight is), :func:`seeded` (a seeded ``torch.Generator``) and :func:`tensor` (a
tensor with given values). The same specs and conversions serve the in-notebook
``check`` so that a student sees exactly what the autograder will see.
"""

from __future__ import annotations

import json
import math
import struct
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
    "frame_size",
    "materialize",
    "parameter",
    "read_frame",
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
    return {
        _SPEC: "parameter",
        "shape": _shape("parameter", shape),
        "dtype": _dtype("parameter", dtype),
    }


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


def _encode_obj(obj: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(obj, np.ndarray):
        arrays.append(np.ascontiguousarray(obj))
        return {_ARRAY: len(arrays) - 1, "dtype": obj.dtype.str, "shape": list(obj.shape)}
    if isinstance(obj, float) and not math.isfinite(obj):
        return {_FLOAT: repr(obj)}
    if isinstance(obj, dict):
        return {k: _encode_obj(v, arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encode_obj(v, arrays) for v in obj]
    return obj


def _array(ref: dict, buffers: list[memoryview]) -> np.ndarray:
    """An array from its header entry and raw buffer; only numeric dtypes, sizes that add up."""
    if set(ref) != {_ARRAY, "dtype", "shape"} or not isinstance(ref["dtype"], str):
        raise NotPlainData(f"bad array entry {sorted(ref)}")
    dtype = np.dtype(ref["dtype"])  # a string such as "<f4": never a pickled object
    if dtype.kind not in "biuf":
        raise NotPlainData(f"refusing an array of dtype {dtype}")
    shape = ref["shape"]
    if not (isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape)):
        raise NotPlainData(f"bad array shape {shape!r}")
    index = ref[_ARRAY]
    if type(index) is not int or not 0 <= index < len(buffers):
        raise NotPlainData(f"bad array index {index!r}")
    raw = buffers[index]
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise NotPlainData(f"array of shape {shape} and dtype {dtype} does not fit its bytes")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _decode_obj(obj: Any, buffers: list[memoryview]) -> Any:
    if isinstance(obj, dict):
        if _ARRAY in obj:
            return _array(obj, buffers)
        if set(obj) == {_FLOAT}:
            if obj[_FLOAT] not in ("nan", "inf", "-inf"):
                raise NotPlainData(f"bad float marker {obj[_FLOAT]!r}")
            return float(obj[_FLOAT])
        return {k: _decode_obj(v, buffers) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_obj(v, buffers) for v in obj]
    return obj


_SIZE = struct.Struct("<Q")


def encode(obj: Any) -> bytes:
    """Serialize plain data (with arrays and non-finite floats) to one frame of bytes.

    A frame is its length (8 bytes, little-endian), a JSON header of that many bytes minus the
    arrays' share, in which each array is ``{"__ndarray__": i, "dtype", "shape"}``, then each
    array's raw bytes, each preceded by its length: no text encoding of the numbers, no pickle.
    """
    arrays: list[np.ndarray] = []
    header = json.dumps(_encode_obj(obj, arrays), allow_nan=False, separators=(",", ":"))
    parts = [_SIZE.pack(len(header)), header.encode()]
    for array in arrays:
        parts += [_SIZE.pack(array.nbytes), array.tobytes()]
    body = b"".join(parts)
    return _SIZE.pack(len(body)) + body


def frame_size(prefix: bytes | bytearray) -> int:
    """The length of the frame body that follows the 8-byte ``prefix``."""
    return int(_SIZE.unpack(prefix)[0])


def decode(body: bytes) -> Any:
    """Inverse of :func:`encode`, given the frame without its 8-byte length; nothing is executed."""
    view = memoryview(body)
    try:
        (size,) = _SIZE.unpack_from(view, 0)
        header = json.loads(bytes(view[8 : 8 + size]))
        buffers, at = [], 8 + size
        while at < len(view):
            (size,) = _SIZE.unpack_from(view, at)
            buffers.append(view[at + 8 : at + 8 + size])
            at += 8 + size
    except (struct.error, ValueError) as exc:
        raise NotPlainData(f"a damaged message ({exc})") from None
    return _decode_obj(header, buffers)


def read_frame(stream) -> bytes | None:
    """The next frame body from a binary ``stream``; ``None`` at its end."""
    prefix = stream.read(8)
    if len(prefix) < 8:
        return None
    return stream.read(frame_size(prefix))
