"""Kubernetes image pull secrets: manifests and live clusters."""
