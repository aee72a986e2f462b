"""Server-side apply and a field someone else changed: what `pulumi up` does, step by step, on the real cluster.

The provider applies with its own field manager (`pulumi-kubernetes-<suffix>`). Someone scales the RC with
another manager (`kubectl patch --field-manager ...`, as `kubectl edit/scale` do with theirs): the API server
moves `spec.replicas` to that manager. Then (pulumi-kubernetes docs, "Handle field conflicts on existing
resources"):
1. `pulumi up` compares the program with the last state, not with the cluster: nothing to do, the edit stays;
2. `pulumi up --refresh` sees the drift and applies without force: the API server refuses with a conflict that
   names the other manager, and nothing is overwritten;
3. the documented way to make the program win, `PULUMI_K8S_ENABLE_PATCH_FORCE=true` (or the
   `pulumi.com/patchForce` annotation), applies with force: replicas are back to the setting and owned by Pulumi.
README.md ("Someone changed a field by hand") tells users the same.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.engine.stack import ProjectStack, kube_json, kubectl

RUN = secrets.token_hex(4)
NAMESPACE = "wso2-ssa"
MANAGER = "ops-on-call"


@pytest.fixture(scope="module")
def stack(engines_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProjectStack]:
    taken = kubectl(engines_env, "get", "svc", "-A", "-o", "jsonpath={.items[*].spec.ports[*].nodePort}").stdout
    assert "32002" not in taken.split(), "node port 32002 is taken (is the dev stack up?)"
    s = ProjectStack.create(tmp_path_factory.mktemp("ssa"), "ssa", engines_env, passphrase=secrets.token_hex(16))
    s.set_config("product", "wso2is")
    s.set_config("version", "5.1.0")
    s.set_config("profiles", ["default"])
    s.set_config("kubernetes", {"namespace": NAMESPACE, "create_namespace": True})
    s.set_config("workload", {"replicas": 1, "java_opts": "-Xms32m -Xmx128m",
                              "resources": {"cpu_request": "100m", "memory_request": "128Mi", "cpu_limit": "1",
                                            "memory_limit": "512Mi"}})
    s.set_secret("admin_password", f"Adm1n-{RUN}-ssa")
    s.set_secret("keystore_password", "wso2carbon")  # the stock keystore
    s.up()
    yield s
    s.pulumi("destroy", "--yes", "--skip-preview", check=False)


def _rc(stack: ProjectStack) -> tuple[str, dict[str, object]]:
    name = stack.outputs()["workloads"]["default"]
    rc: dict[str, object] = kube_json(stack.env, "-n", NAMESPACE, "get", "rc", name, "--show-managed-fields")
    return name, rc


def _replicas_owner(rc: dict[str, object]) -> list[str]:
    fields = rc["metadata"]["managedFields"]  # type: ignore[index]
    return [f["manager"] for f in fields if "f:replicas" in str(f.get("fieldsV1", {}).get("f:spec", {}))]


def test_the_program_owns_its_fields_through_server_side_apply(stack: ProjectStack) -> None:
    _, rc = _rc(stack)
    owners = _replicas_owner(rc)
    assert len(owners) == 1 and owners[0].startswith("pulumi-kubernetes-"), owners
    ops = {f["manager"]: f["operation"] for f in rc["metadata"]["managedFields"]}  # type: ignore[index]
    assert ops[owners[0]] == "Apply"


def test_a_hand_edit_moves_the_field_to_its_manager(stack: ProjectStack) -> None:
    name, _ = _rc(stack)
    kubectl(stack.env, "-n", NAMESPACE, "patch", "rc", name, "--type=merge", "--field-manager", MANAGER,
            "-p", '{"spec":{"replicas":2}}')
    _, rc = _rc(stack)
    assert rc["spec"]["replicas"] == 2  # type: ignore[index]
    assert _replicas_owner(rc) == [MANAGER]


def test_up_without_refresh_changes_nothing_and_keeps_the_edit(stack: ProjectStack) -> None:
    _, changes = stack.up()
    assert set(changes) == {"same"}, changes
    _, rc = _rc(stack)
    assert rc["spec"]["replicas"] == 2  # type: ignore[index]


def test_up_with_refresh_stops_at_the_conflict_and_names_the_other_manager(stack: ProjectStack) -> None:
    proc = stack.pulumi("up", "--yes", "--skip-preview", "--refresh", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "Server-Side Apply field conflict detected" in out, out[-3000:]
    assert f'conflict with "{MANAGER}"' in out and ".spec.replicas" in out, out[-3000:]
    _, rc = _rc(stack)
    assert rc["spec"]["replicas"] == 2  # type: ignore[index]  # nothing was overwritten


def test_patch_force_makes_the_program_win_and_take_the_field_back(stack: ProjectStack) -> None:
    stack.env["PULUMI_K8S_ENABLE_PATCH_FORCE"] = "true"
    try:
        stack.up("--refresh")
    finally:
        del stack.env["PULUMI_K8S_ENABLE_PATCH_FORCE"]
    _, rc = _rc(stack)
    assert rc["spec"]["replicas"] == 1  # type: ignore[index]
    owners = _replicas_owner(rc)
    assert len(owners) == 1 and owners[0].startswith("pulumi-kubernetes-"), owners
    stack.pulumi("preview", "--refresh", "--expect-no-changes")
