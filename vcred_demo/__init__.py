"""The cross-border demo (`vcred demo`): issuers and verifiers of three MRA partners on
localhost, and the main job of the system played step by step.

Runs the real services in one process (each on its own port, with its own data folder and
did:web identity mapped to that port), talks to them only over HTTP, and says for each step
what it expected and what happened.
"""

from vcred_demo.runner import run

__all__ = ["run"]
