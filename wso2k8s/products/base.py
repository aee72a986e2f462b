"""What a product module declares. Pure data plus editors: no Pulumi, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the editors' types; render.py imports the product modules only when it renders
    from ..pack.render import Conf
    from ..settings.schema import Settings

Editor = Callable[["Conf", "Settings"], bool]  # edits in place; True when secret tokens were written


@dataclass(frozen=True)
class SyntheticPack:
    """What the generated stand-in pack of this product holds beyond the Carbon 4.4 kernel's files."""

    # folder under wso2k8s/synthetic/template/, e.g. wso2is-5.1.0: only what differs from the kernel's folder
    # there (carbon-kernel-4.4.3), which the generator lays under it (a file at the same path replaces the kernel's)
    template: str
    plugins: tuple[tuple[str, str], ...]  # (bundle, version) names of a real pack's OSGi bundles
    dbscripts: tuple[str, ...]  # paths under dbscripts/ a real pack ships
    # conf files (pack paths) that carry the stock keystore password, and the spellings it has there
    keystore_password_spots: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductModule:
    product: str  # the hieradata folder, e.g. wso2is
    display_name: str  # carbon.xml <Name> of its packs
    versions: tuple[str, ...]  # the versions it knows (each has hieradata/<product>/<version>.yaml)
    # conf files only this product ships, by pack path → its editor (the kernel's are in pack/render.py)
    editors: Mapping[str, Editor]
    synthetic: SyntheticPack
    # roles the product's profiles point at one another with (`relations` in hieradata), e.g. key_manager
    relation_roles: tuple[str, ...] = ()
