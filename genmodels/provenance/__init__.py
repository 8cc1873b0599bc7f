"""Provenance: manifests of saved artefacts (hashes now; signatures and watermarks later)."""

from genmodels.provenance.manifest import ManifestError, verify_manifest, write_manifest

__all__ = ["ManifestError", "verify_manifest", "write_manifest"]
