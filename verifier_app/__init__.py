"""The verifying agency's service (VC API verifier, MRA trust list, officer UI).

``create_app(config)`` is the app factory: ``gunicorn 'verifier_app:create_app()'`` reads its
configuration from the environment; ``vcred serve verifier`` from its options.
"""

from verifier_app.app import create_app
from verifier_app.config import VerifierConfig

__all__ = ["VerifierConfig", "create_app"]
