"""mip-federation guard rails: pure checks (rules) and the pulumi-policy policies serving them."""

from .policies import POLICIES

__all__ = ["POLICIES"]
