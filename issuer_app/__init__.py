"""The issuing agency's service (VC API issuer, status lists, did:web document)."""
