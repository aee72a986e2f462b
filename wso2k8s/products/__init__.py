"""WSO2 products: each is its hieradata (`hieradata/<product>/`) plus one module here that knows what only
that product has: its own conf-file editors (by pack path) and what its synthetic stand-in pack holds.

The core (settings, pack handling, components, tools) names no product; it asks `module_for(product)`.
Adding a product: README, "Another product".
"""

from __future__ import annotations

from .base import ProductDatabase, ProductModule, SyntheticPack
from .wso2am import MODULE as WSO2AM
from .wso2is import MODULE as WSO2IS

PRODUCTS: dict[str, ProductModule] = {m.product: m for m in (WSO2IS, WSO2AM)}


def module_for(product: str) -> ProductModule | None:
    return PRODUCTS.get(product)


__all__ = ["PRODUCTS", "ProductDatabase", "ProductModule", "SyntheticPack", "module_for"]
