"""Docker / OCI: Docker CLI, podman/skopeo/buildah and Helm credentials."""
