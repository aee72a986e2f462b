"""One Pulumi ComponentResource per node of the seed's graph (see README: "The graph")."""

from .base_image import BaseImage, BaseImageArgs
from .carbon_cluster import CarbonCluster, CarbonClusterArgs
from .carbon_service import CarbonService, CarbonServiceArgs
from .membership_access import MembershipAccess, MembershipAccessArgs
from .product_image import ProductImage, ProductImageArgs

__all__ = [
    "BaseImage", "BaseImageArgs", "CarbonCluster", "CarbonClusterArgs", "CarbonService", "CarbonServiceArgs",
    "MembershipAccess", "MembershipAccessArgs", "ProductImage", "ProductImageArgs",
]
