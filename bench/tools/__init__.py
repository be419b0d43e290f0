"""The three ways of deploying the federation, behind one small interface."""

from bench.tools.base import Outcome, Tool

__all__ = ["Outcome", "Tool"]
