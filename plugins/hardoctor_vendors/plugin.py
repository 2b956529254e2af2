"""The hooks of one vendor plugin, the same for every vendor: the entry
point names an instance (``hardoctor_vendors.ecr:PLUGIN``), so only each
vendor's knowledge (its :class:`~.common.Vendor`, decoder and URL rules)
differs."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hardoctor import hookimpl
from hardoctor.model import (
    Credential,
    Finding,
    ProbeResult,
    RegistryInfo,
    Remediation,
    Resolution,
    Rule,
    TokenInfo,
)

from .common import Vendor, add_host_option, configure_hosts
from .findings import check_credential, diagnose, remediation, vendor_rules

if TYPE_CHECKING:
    from hardoctor.context import Context


class VendorPlugin:
    """The hooks of one vendor plugin: the entry point names an instance
    (``hardoctor_vendors.ecr:PLUGIN``), so every vendor has the same hook
    bodies and only its knowledge differs."""

    def __init__(
        self,
        vendor: Vendor,
        decode: Callable[[Credential, Context], TokenInfo | None],
        info: Callable[[str, str | None, Context], RegistryInfo | None],
        remedy: Callable[[Finding, Credential | None, Context], Remediation | None] | None = None,
    ) -> None:
        self.vendor = vendor
        self._decode = decode
        self._info = info
        self._remedy = remedy

    @hookimpl
    def hardoctor_addoption(self, parser: argparse.ArgumentParser, command: str) -> None:
        add_host_option(self.vendor, parser, command)

    @hookimpl
    def hardoctor_configure(self, ctx: Context) -> None:
        configure_hosts(self.vendor, ctx)

    @hookimpl
    def hardoctor_register_rules(self, register: Callable[[Rule], None]) -> None:
        for r in vendor_rules(self.vendor):
            register(r)

    @hookimpl
    def hardoctor_decode_secret(self, credential: Credential, ctx: Context) -> TokenInfo | None:
        return self._decode(credential, ctx)

    @hookimpl
    def hardoctor_check_credential(self, credential: Credential,
                                   ctx: Context) -> Sequence[Finding]:
        return check_credential(self.vendor, credential, ctx)

    @hookimpl
    def hardoctor_diagnose(self, resolution: Resolution, results: Sequence[ProbeResult],
                           ctx: Context) -> Sequence[Finding]:
        return diagnose(self.vendor, resolution, results, ctx)

    @hookimpl
    def hardoctor_registry_info(self, url: str, package_type: str | None,
                                ctx: Context) -> RegistryInfo | None:
        return self._info(url, package_type, ctx)

    @hookimpl
    def hardoctor_remediation(self, finding: Finding, credential: Credential | None,
                              ctx: Context) -> Remediation | None:
        if self._remedy is not None:
            return self._remedy(finding, credential, ctx)
        return remediation(self.vendor, finding, credential, ctx)
