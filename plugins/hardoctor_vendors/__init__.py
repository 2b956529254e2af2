"""The registries Harness users also pull from, one small plugin per vendor.

Each module is its own plugin (its own entry point, ``--disable-plugin``
works per vendor) and uses only the public hooks:

* :mod:`.ecr` -- Amazon ECR and ECR Public;
* :mod:`.gar` -- Google Artifact Registry and Container Registry;
* :mod:`.acr` -- Azure Container Registry;
* :mod:`.github` -- GitHub Packages (ghcr.io, npm/maven.pkg.github.com);
* :mod:`.gitlab` -- GitLab container and package registries;
* :mod:`.dockerhub` -- Docker Hub;
* :mod:`.jfrog` -- JFrog Artifactory.

:mod:`.common` is their shared toolkit (token info, expiry findings, the
rule pages every vendor has, remediation dispatch); it registers nothing.
The facts and their sources are in ``docs/vendors/<vendor>.md``.
"""
