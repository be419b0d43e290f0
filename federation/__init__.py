"""mip-federation: the MIP Federation (Docker Swarm + Exareme + portal) as a Pulumi program."""

from federation.config import ConfigError, FederationConfig, load_config
from federation.stack import Federation

__all__ = ["ConfigError", "Federation", "FederationConfig", "load_config"]
