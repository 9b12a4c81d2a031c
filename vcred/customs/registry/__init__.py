"""The bundled registry files: AEO programmes and mutual recognition arrangements as data.

``programmes.json`` and ``arrangements.json`` follow ``registry-v1.schema.json``; every fact
names the public source that confirms it. :mod:`vcred.customs.programmes` loads them, and
further files an agency adds (docs/trust-fabric.md).
"""
