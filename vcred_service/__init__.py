"""Flask plumbing both services share: problem details, request limits, rate limiting,
storage URLs, the officer UI's base template, officer sign-in (``passwords``, ``officers``,
``signin``: accounts, server-side sessions, CSRF) and the process runner.

``vcred`` (the library) never imports Flask; ``issuer_app`` and ``verifier_app`` are thin
layers over it, and this package holds what they would otherwise both write.
"""

from vcred_service.app import create_base_app
from vcred_service.problems import ProblemError, problem_response
from vcred_service.requests import read_json

__all__ = ["ProblemError", "create_base_app", "problem_response", "read_json"]
