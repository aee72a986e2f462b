"""Synthetic WSO2 product packs for tests and demos (real packs cannot be downloaded here)."""

from .pack import (
    PACK_DIR_NAME,
    PACK_ZIP_NAME,
    SERVER_JAVA_MODULES,
    build_server_jar,
    extract_pack,
    make_jar,
    make_pack,
)

__all__ = [
    "PACK_DIR_NAME",
    "PACK_ZIP_NAME",
    "SERVER_JAVA_MODULES",
    "build_server_jar",
    "extract_pack",
    "make_jar",
    "make_pack",
]
