"""The verifying agency's service (VC API verifier, MRA trust list)."""
