"""The issuing agency's service: VC API issuer, status lists, did:web document, officer UI.

``create_app(config)`` builds the Flask app (``gunicorn 'issuer_app:create_app()'`` reads the
configuration from the environment); ``vcred serve issuer`` runs it locally and
``vcred issuer …`` administers it (tokens, keys, officers, the audit log).
"""

from issuer_app.app import create_app, issuer_of
from issuer_app.config import IssuerConfig
from issuer_app.service import Issuer

__all__ = ["Issuer", "IssuerConfig", "create_app", "issuer_of"]
