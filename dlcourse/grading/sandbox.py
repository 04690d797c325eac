"""The child process that runs a student's code for the autograder.

Started as ``python -I -m dlcourse.grading.sandbox REQ_FD RESP_FD`` by
:class:`dlcourse.grading.session.Session` (or forked warm by :mod:`dlcourse.grading.zygote`). It
reads one request frame (:func:`dlcourse.grading.wire.encode`) at a time from ``REQ_FD`` and
answers one frame on ``RESP_FD``; the operations and their replies are in
:mod:`dlcourse.grading.protocol`.

Standard input is closed and standard output/error go to a capped log file, so nothing the student
prints can be mistaken for an answer. The grader enforces time limits by killing this process.
"""

from __future__ import annotations

import os
import sys

from dlcourse.grading.protocol import EXIT, ChildState, dispatch, strip_magics

__all__ = ["main", "strip_magics"]


def _flush_output() -> None:
    """Flush what the student printed; past the output limit the flush fails, which is not fatal."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    """Serve requests from the file descriptors in ``argv`` until ``exit`` or end of input."""
    argv = sys.argv[1:] if argv is None else argv
    req_fd, resp_fd = int(argv[0]), int(argv[1])
    from dlcourse.grading.wire import decode, encode, read_frame

    requests = os.fdopen(req_fd, "rb")
    responses = os.fdopen(resp_fd, "wb")
    state = ChildState()
    while (body := read_frame(requests)) is not None:
        request = decode(body)
        if request.get("op") == EXIT:
            break
        reply = dispatch(state, request)
        _flush_output()
        responses.write(encode(reply))
        responses.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
