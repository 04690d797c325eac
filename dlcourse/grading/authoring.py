"""Moved to :mod:`dlcourse.authoring.build`; this name stays for imports written before."""

from dlcourse.authoring.build import build_lab, build_labs, render_lab, strip_hidden, stub_source

__all__ = ["build_lab", "build_labs", "render_lab", "strip_hidden", "stub_source"]
