"""Which input changes make a provider replace a resource, for every type this program registers.

Each rule is what the provider's own source declares (ForceNew / RequiresReplace / its Diff), cited by
repository, commit or tag and file. Paths are engine input paths (camelCase, `[*]` for any item); a
change at or under a path forces the replacement. Inputs a provider would force on but this program
never sets are left out. `homelab diff` applies these, plus each resource's recorded
`replaceOnChanges` and `replaceWith` options.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BPG = "bpg/terraform-provider-proxmox@d6bd1ff"
TALOS = "siderolabs/terraform-provider-talos@v0.10.0"
KUBERNETES = "pulumi/pulumi-kubernetes@9497796"


@dataclass(frozen=True)
class Rule:
    path: str
    source: str
    when: Callable[[Any, Any], bool] | None = None
    """Only when this holds for the old and new value at `path` (a conditional ForceNew)."""

    def covers(self, changed: str) -> bool:
        return _pattern(self.path).match(changed) is not None


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.escape(path).replace(r"\[\*\]", r"\[\d+\]") + r"(?:$|[.\[])")


def _shrinks(old: Any, new: Any) -> bool:
    return isinstance(old, int | float) and isinstance(new, int | float) and new < old


def _downgrades(old: Any, new: Any) -> bool:
    def version(text: Any) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", str(text))[:3])

    return version(new) < version(old)


_CONTAINER = f"{BPG} proxmoxtf/resource/container/container.go"
_VM = f"{BPG} proxmoxtf/resource/vm/vm.go"
_DOWNLOAD = f"{BPG} fwprovider/nodes/resource_download_file.go"
_SDN_ZONE = f"{BPG} fwprovider/cluster/sdn/zone/resource_generic.go"
_K8S_DIFF = f"{KUBERNETES} provider/pkg/provider/diff.go"
_K8S_PROVIDER = f"{KUBERNETES} provider/pkg/provider/provider.go"

PROXMOX: dict[str, tuple[Rule, ...]] = {
    "proxmoxve:index/containerLegacy:ContainerLegacy": (
        Rule("nodeName", f"{_CONTAINER}: node_name ForceNew"),
        Rule("vmId", f"{_CONTAINER}: CustomizeDiff ForceNewIf(vm_id)"),
        Rule("operatingSystem", f"{_CONTAINER}: operating_system and its template_file_id ForceNew"),
        Rule("initialization.userAccount", f"{_CONTAINER}: initialization.user_account (keys, password) ForceNew"),
        Rule("unprivileged", f"{_CONTAINER}: unprivileged ForceNew"),
        Rule("disk.datastoreId", f"{_CONTAINER}: disk.datastore_id ForceNew"),
        Rule("disk.size", f"{_CONTAINER}: CustomizeDiff ForceNewIf(disk) when a disk shrinks", _shrinks),
    ),
    "proxmoxve:index/vmLegacy:VmLegacy": (
        Rule("vmId", f"{_VM}: CustomizeDiff ForceNewIf(vm_id)"),
        Rule("nodeName", f"{_VM}: CustomizeDiff ForceNewIf(node_name) unless migrate (not set)"),
    ),
    "proxmoxve:download/file:File": tuple(
        Rule(path, f"{_DOWNLOAD}: {attribute} RequiresReplace")
        for path, attribute in (
            ("contentType", "content_type"),
            ("fileName", "file_name"),
            ("datastoreId", "datastore_id"),
            ("nodeName", "node_name"),
            ("url", "url"),
            ("checksum", "checksum"),
            ("checksumAlgorithm", "checksum_algorithm"),
            ("decompressionAlgorithm", "decompression_algorithm"),
        )
    ),
    "proxmoxve:network/linux/bridge:Bridge": (
        Rule("name", f"{BPG} fwprovider/nodes/network/resource_linux_bridge.go: name RequiresReplace"),
    ),
    # Zones and VNets: only the id (`resourceId` in Pulumi) RequiresReplace; peers, nodes, MTU, bridge, zone and tag
    # are updated in place (and only pending until an SDN apply).
    "proxmoxve:sdn/zone/vxlanLegacy:VxlanLegacy": (
        Rule("resourceId", f"{_SDN_ZONE}: id RequiresReplace (resource_vxlan.go adds none)"),
    ),
    "proxmoxve:sdn/zone/vlanLegacy:VlanLegacy": (
        Rule("resourceId", f"{_SDN_ZONE}: id RequiresReplace (resource_vlan.go adds none)"),
    ),
    "proxmoxve:sdn/vnetLegacy:VnetLegacy": (
        Rule("resourceId", f"{BPG} fwprovider/cluster/sdn/vnet/resource.go: id RequiresReplace"),
    ),
    # on_create and on_destroy RequiresReplace, but this program sets neither: only replaceWith/replacementTrigger.
    "proxmoxve:sdn/applierLegacy:ApplierLegacy": (),
    "proxmoxve:firewall/ipsetLegacy:IpsetLegacy": (
        Rule("cidrs", f"{BPG} proxmoxtf/resource/firewall/ipset.go: cidr (name, nomatch, comment) ForceNew"),
    ),
    "proxmoxve:index/roleLegacy:RoleLegacy": (Rule("roleId", f"{BPG} proxmoxtf/resource/role.go: role_id ForceNew"),),
    # Privileges, comment and enabled are updated in place.
    "proxmoxve:index/userLegacy:UserLegacy": (Rule("userId", f"{BPG} proxmoxtf/resource/user.go: user_id ForceNew"),),
    "proxmoxve:user/token:Token": tuple(
        Rule(path, f"{BPG} fwprovider/access/resource_user_token.go: {attribute} RequiresReplace")
        for path, attribute in (("tokenName", "token_name"), ("userId", "user_id"))
    ),
    "proxmoxve:index/acl:Acl": tuple(
        Rule(path, f"{BPG} fwprovider/access/resource_acl.go: {attribute} RequiresReplace")
        for path, attribute in (
            ("path", "path"),
            ("roleId", "role_id"),
            ("userId", "user_id"),
            ("tokenId", "token_id"),
            ("groupId", "group_id"),
        )
    ),
    # No ForceNew in proxmoxtf/resource/firewall/{options,rules,selector}.go: every change is an update.
    "proxmoxve:firewall/optionsLegacy:OptionsLegacy": (),
    "proxmoxve:firewall/rulesLegacy:RulesLegacy": (),
    # No ForceNew in proxmoxtf/resource/cluster/firewall/firewall.go either.
    "proxmoxve:cluster/firewallLegacy:FirewallLegacy": (),
}

_TLS = "hashicorp/terraform-provider-tls@v4.2.1 internal/provider"


def _tls_rules(resource: str, replacing: tuple[str, ...], pems: tuple[str, ...]) -> tuple[Rule, ...]:
    """Attributes with RequiresReplace, and PEM inputs with requireReplaceIfStateContainsPEMString."""
    snake = {path: re.sub(r"(?<!^)(?=[A-Z])", "_", path).lower() for path in (*replacing, *pems)}
    return (
        *(Rule(path, f"{_TLS}/{resource}.go: {snake[path]} RequiresReplace") for path in replacing),
        *(Rule(path, f"{_TLS}/{resource}.go: {snake[path]} requireReplaceIfStateContainsPEMString") for path in pems),
    )


# A certificate's early renewal (ready_for_renewal, in ModifyPlan) depends on the clock, not on inputs.
_TLS_CERTIFICATES: dict[str, tuple[Rule, ...]] = {
    "tls:index/certRequest:CertRequest": _tls_rules(
        "resource_cert_request", ("dnsNames", "ipAddresses", "uris", "subject"), ("privateKeyPem",)
    ),
    "tls:index/selfSignedCert:SelfSignedCert": _tls_rules(
        "resource_self_signed_cert",
        ("allowedUses", "dnsNames", "isCaCertificate", "setSubjectKeyId", "subject", "validityPeriodHours"),
        ("privateKeyPem",),
    ),
    "tls:index/locallySignedCert:LocallySignedCert": _tls_rules(
        "resource_locally_signed_cert",
        ("allowedUses", "isCaCertificate", "setSubjectKeyId", "validityPeriodHours"),
        ("caCertPem", "caPrivateKeyPem", "certRequestPem"),
    ),
}

OTHERS: dict[str, tuple[Rule, ...]] = {
    # A read of a stack's outputs (its id is the stack's name): nothing to replace.
    "pulumi:pulumi:StackReference": (),
    "tls:index/privateKey:PrivateKey": tuple(
        Rule(path, f"hashicorp/terraform-provider-tls internal/provider/resource_private_key.go: {a} RequiresReplace")
        for path, a in (("algorithm", "algorithm"), ("rsaBits", "rsa_bits"), ("ecdsaCurve", "ecdsa_curve"))
    ),
    **_TLS_CERTIFICATES,
    "talos:machine/secrets:Secrets": (
        Rule(
            "talosVersion",
            f"{TALOS} pkg/talos/talos_machine_secrets_resource.go: talosMachineFeaturesVersionPlanModifier "
            "requires replace on a downgrade only",
            _downgrades,
        ),
    ),
    # No RequiresReplace anywhere in their schemas (pkg/talos/*_resource.go): every change is an update.
    "talos:imageFactory/schematic:Schematic": (),
    "talos:machine/configurationApply:ConfigurationApply": (),
    "talos:machine/bootstrap:Bootstrap": (),
    "talos:cluster/kubeconfig:Kubeconfig": (),
    "command:remote:Command": (
        Rule(
            "triggers",
            'pulumi/pulumi-command provider/pkg/provider/common/inputs.go: triggers provider:"replaceOnChanges"',
        ),
    ),
    "kubernetes:helm.sh/v3:Release": tuple(
        Rule(path, f"{KUBERNETES} provider/pkg/provider/helm_release.go: Diff forceNewFields .{path}")
        for path in ("name", "namespace")
    ),
    # Its config is the cluster: a replaced provider replaces every object it manages.
    "pulumi:providers:kubernetes": tuple(
        Rule(path, f"{_K8S_PROVIDER}: DiffConfig replaces when the active cluster changes or {path} is unknown")
        for path in ("kubeconfig", "context", "cluster")
    ),
}

_METADATA = tuple(
    Rule(f"metadata.{field}", f"{_K8S_DIFF}: metadataForceNewProperties .metadata.{field}")
    for field in ("name", "namespace")
)
KUBERNETES_KINDS: dict[str, tuple[Rule, ...]] = {
    "apps/v1:Deployment": (Rule("spec.selector", f"{_K8S_DIFF}: deployment .spec.selector"),),
    "core/v1:Service": (Rule("spec.clusterIP", f"{_K8S_DIFF}: core v1 Service .spec.clusterIP"),),
    "storage.k8s.io/v1:StorageClass": tuple(
        Rule(path, f"{_K8S_DIFF}: storage.k8s.io v1 StorageClass .{path}") for path in ("parameters", "provisioner")
    ),
    "apps/v1:StatefulSet": tuple(
        Rule(path, f"{_K8S_DIFF}: statefulSet .{path}")
        for path in (
            "spec.podManagementPolicy",
            "spec.revisionHistoryLimit",
            "spec.selector",
            "spec.serviceName",
            "spec.volumeClaimTemplates",
        )
    ),
    # ConfigMaps are immutable unless the provider sets enableConfigMapMutable (it does not).
    "core/v1:ConfigMap": tuple(
        Rule(path, f"{_K8S_DIFF}: forceNewProperties .{path} of a ConfigMap") for path in ("data", "binaryData")
    ),
    "core/v1:Secret": tuple(
        Rule(path, f"{_K8S_DIFF}: forceNewProperties .{path} of a Secret") for path in ("type", "data", "stringData")
    ),
}

# Outputs a provider recomputes on an update, so they are unknown in a preview: computed attributes
# without UseStateForUnknown. (A replaced resource's outputs are all unknown.)
UNKNOWN_AFTER_UPDATE: dict[str, str] = {
    "talos:machine/secrets:Secrets": f"{TALOS} pkg/talos/talos_machine_secrets_resource.go: machine_secrets and "
    "client_configuration are computed without UseStateForUnknown",
}


# Outputs a provider keeps on an update: computed with UseStateForUnknown, and Update writes the plan
# without computing them again. Whatever consumes them does not change when the resource is updated.
KEPT_ON_UPDATE: dict[str, str] = {
    "talos:cluster/kubeconfig:Kubeconfig": f"{TALOS} pkg/talos/talos_cluster_kubeconfig_resource.go: kubeconfig_raw "
    "UseStateForUnknown; Update stores the plan (a new endpoint or node is recorded, the issued kubeconfig kept)",
}


def deletes_before_replace(type_token: str, inputs: dict[str, Any]) -> bool:
    """Whether the provider itself deletes first: pulumi-kubernetes does for an object with a fixed name
    (provider/pkg/provider/provider.go, Diff: deleteBeforeReplace), not for a Helm release (helm_release.go)."""
    named = isinstance(inputs.get("metadata"), dict) and bool(inputs["metadata"].get("name"))
    return type_token.startswith("kubernetes:") and type_token != "kubernetes:helm.sh/v3:Release" and named


def rules_for(type_token: str) -> tuple[Rule, ...] | None:
    """The rules of a type; None for a type this table does not know (homelab diff refuses to guess)."""
    if type_token in PROXMOX:
        return PROXMOX[type_token]
    if type_token in OTHERS:
        return OTHERS[type_token]
    if type_token.startswith("kubernetes:"):
        return _METADATA + KUBERNETES_KINDS.get(type_token.removeprefix("kubernetes:"), ())
    return None


def forcing(type_token: str, path: str, old: dict[str, Any], new: dict[str, Any]) -> Rule | None:
    """The rule a changed input path falls under, if any."""
    for rule in rules_for(type_token) or ():
        if rule.covers(path) and (rule.when is None or rule.when(_at(old, rule.path), _at(new, rule.path))):
            return rule
    return None


def _at(inputs: dict[str, Any], path: str) -> Any:
    value: Any = inputs
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
