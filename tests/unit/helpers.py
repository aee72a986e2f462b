"""Shared builders for unit tests: stack settings from the real hieradata, with test values on top."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from wso2k8s.settings import StackSettings, load_stack_settings
from wso2k8s.synthetic.pack import template_files

PROJECT_DIR = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "unit-admin-Pa55"
KEYSTORE_PASSWORD = "unit-keystore-Pa55"
SECRET_KEYS = ("admin_password", "keystore_password", "registry_password", "database_password")


def stack_config(**config: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"product": "wso2is", "version": "5.1.0", "profiles": ["default"],
                              "admin_password": ADMIN_PASSWORD, "keystore_password": KEYSTORE_PASSWORD}
    values.update(config)
    return {k: v for k, v in values.items() if v is not None}


def stack_settings(project_dir: Path = PROJECT_DIR, stack: str = "unit", plain: tuple[str, ...] = (),
                   **config: Any) -> StackSettings:
    """`plain` names secret keys to pass as plain (not --secret) config."""
    values = stack_config(**config)
    secret = {k for k in SECRET_KEYS if k in values and k not in plain}
    return load_stack_settings(project_dir, stack, values, secret)


def synthetic_conf(dest: Path, product: str = "wso2is", version: str = "5.1.0") -> Path:
    """The synthetic pack's template files (the Carbon kernel's under the product's own) unpacked at
    `dest/<product>-<version>`, as a user's pack has them but without jars or keystores: no JDK needed."""
    root = dest / f"{product}-{version}"
    for rel, src in template_files(product, version).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, root / rel)
    return root
