"""The synthetic packs' template layers: the Carbon kernel's files once, each product's own laid over them (pure
Python; tests/synthetic/test_synthetic_pack.py checks the same in the generated zips)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wso2k8s.products import PRODUCTS
from wso2k8s.synthetic import pack
from wso2k8s.synthetic.pack import KERNEL_TEMPLATE, TEMPLATE_DIR, template_files

PACKS = [(m.product, v) for m in PRODUCTS.values() for v in m.versions]


def _layer(name: str, root: Path = TEMPLATE_DIR) -> dict[str, Path]:
    return {p.relative_to(root / name).as_posix(): p for p in (root / name).rglob("*") if p.is_file()}


@pytest.mark.parametrize(("product", "version"), PACKS)
def test_each_products_files_are_the_kernels_and_its_own(product: str, version: str) -> None:
    kernel, own = _layer(KERNEL_TEMPLATE), _layer(PRODUCTS[product].synthetic.template)
    files = template_files(product, version)
    assert files == {**kernel, **own}
    assert files["bin/wso2carbon-version.txt"].read_text() == "WSO2 Carbon Framework v4.4.3\n"  # the kernel's
    assert f"<Name>{PRODUCTS[product].display_name}</Name>" in files["repository/conf/carbon.xml"].read_text()


def test_a_product_file_replaces_the_kernel_file_at_its_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for layer, rel, text in ((KERNEL_TEMPLATE, "repository/conf/log4j.properties", "kernel"),
                             (KERNEL_TEMPLATE, "bin/wso2carbon-version.txt", "kernel"),
                             ("wso2is-5.1.0", "repository/conf/log4j.properties", "product"),
                             ("wso2is-5.1.0", "repository/conf/carbon.xml", "product")):
        (tmp_path / layer / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / layer / rel).write_text(text)
    monkeypatch.setattr(pack, "TEMPLATE_DIR", tmp_path)
    got = {rel: src.read_text() for rel, src in template_files("wso2is", "5.1.0").items()}
    assert got == {"repository/conf/log4j.properties": "product", "bin/wso2carbon-version.txt": "kernel",
                   "repository/conf/carbon.xml": "product"}


def test_what_every_product_ships_alike_is_in_the_kernel_once() -> None:
    """A product's template keeps only what differs: no copy of a kernel file, and no file all products share."""
    kernel = _layer(KERNEL_TEMPLATE)
    owns = [_layer(m.synthetic.template) for m in PRODUCTS.values()]
    copies = sorted(f"{src.relative_to(TEMPLATE_DIR)}" for own in owns for rel, src in own.items()
                    if rel in kernel and src.read_bytes() == kernel[rel].read_bytes())
    assert copies == [], f"the same bytes as {KERNEL_TEMPLATE}/ at that path: delete them"
    shared = sorted(rel for rel in set.intersection(*(set(own) for own in owns))
                    if len({own[rel].read_bytes() for own in owns}) == 1)
    assert shared == [], f"every product has the same file: move it to {KERNEL_TEMPLATE}/"

