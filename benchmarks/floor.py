"""The benchmark's floor: import what the program's resources and invokes come from, nothing else.

Each SDK module with the classes and functions the program uses from it (`pulumi up`
imports the same), and the program's other dependencies. The SDKs register submodules
lazily and run one when a name is read from it, so the floor reads each name through its
package, as the program does (`k8s.apps.v1.Deployment`). `tests/plan/test_benchmark_floor.py`
checks that a plan runs no provider SDK module this leaves out.
"""

from __future__ import annotations

FLOOR: dict[str, tuple[str, ...]] = {
    "pulumi": ("ComponentResource", "Output", "ResourceOptions"),
    "pulumi_proxmoxve": ("ContainerLegacy", "VmLegacy"),
    "pulumi_proxmoxve.cluster": ("FirewallLegacy",),
    "pulumi_proxmoxve.download": ("File",),
    "pulumi_proxmoxve.firewall": ("IpsetLegacy", "OptionsLegacy", "RulesLegacy"),
    "pulumi_proxmoxve.network.linux": ("Bridge",),
    "pulumiverse_talos.imagefactory": ("Schematic", "get_urls_output"),
    "pulumiverse_talos.machine": ("Bootstrap", "ConfigurationApply", "Secrets", "get_configuration_output"),
    "pulumiverse_talos.cluster": ("Kubeconfig", "get_health_output"),
    "pulumiverse_talos.client": ("get_configuration_output",),
    "pulumi_command.remote": ("Command",),
    "pulumi_tls": ("PrivateKey",),
    "pulumi_kubernetes": ("Provider",),
    "pulumi_kubernetes.core.v1": ("ConfigMap", "Namespace", "Service"),
    "pulumi_kubernetes.apps.v1": ("Deployment",),
    "pulumi_kubernetes.networking.v1": ("Ingress",),
    "pulumi_kubernetes.helm.v3": ("Release",),
    "pulumi_kubernetes.apiextensions": ("CustomResource",),
    "pulumi_kubernetes.meta.v1": ("ObjectMetaArgs",),
    "pydantic": ("BaseModel",),
    "yaml": ("safe_load",),
}


def floor_code() -> str:
    """The floor as Python source (for `python -c`): each name read through its package, as the program does."""
    packages = sorted({module.split(".")[0] for module in FLOOR})
    names = [f"{module}.{name}" for module, used in FLOOR.items() for name in used]
    return f"import {', '.join(packages)}; " + "; ".join(names)
