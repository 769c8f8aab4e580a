"""`homelab check`: the live lab's request path (DESIGN §1), hop by hop, from the user's machine.

Each hop is a probe with a short timeout and, when it fails, what is wrong and what to
do. The walk stops at the first broken hop: everything after it depends on it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from check.probes import Answer, get_page, read_hosts, route_to, tcp
from components import outputs
from config.guests import Guest, Role, lab_guests, router_host
from config.models import LabConfig

SSH, TALOS_API, KUBERNETES_API, HTTP, HTTPS = 22, 50000, 6443, 80, 443


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str  # what was seen
    fix: str = ""  # what to do, when not ok


@dataclass(frozen=True)
class Hop:
    name: str
    probe: Callable[[], Outcome]


@dataclass(frozen=True)
class CheckOptions:
    hosts_file: Path = Path("/etc/hosts")
    timeout: float = 2.0
    ca_file: Path | None = None  # the lab CA (`caCertificate` output): adds the HTTPS hop


def hops(config: LabConfig, options: CheckOptions) -> list[Hop]:
    """The request path in order: the laptop, the router, the cluster's APIs, the site."""
    router = config.network.router
    wan = str(router.wan_address.ip)
    ingress = str(config.load_balancer.ingress_address)
    # The lab's subnet, then the pool: the commands the plan prints for this system.
    route_fixes = (outputs.laptop_routes_macos if sys.platform == "darwin" else outputs.laptop_routes_linux)(config)
    path = [
        Hop("hosts line", partial(_hosts_line, config, options)),
        Hop(f"route to {config.network.cidr}", partial(_route, str(router.address), wan, route_fixes[0], options)),
        Hop(f"route to {config.load_balancer.pool}", partial(_route, ingress, wan, route_fixes[1], options)),
        Hop(f"router {wan}", partial(_router, wan, router.vm_id, router_host(config), options)),
    ]
    control_planes = [guest for guest in lab_guests(config) if guest.role is Role.CONTROL_PLANE]
    for port, api in ((TALOS_API, "Talos API"), (KUBERNETES_API, "Kubernetes API")):
        for guest in control_planes:
            where = f"on {guest.name} {guest.address}:{port}"
            path.append(Hop(f"{api} {where}", partial(_api, str(guest.address), port, guest, options)))
    if config.cluster.vip is not None:
        vip = str(config.cluster.vip)
        path.append(
            Hop(f"Kubernetes API on the VIP {vip}:{KUBERNETES_API}", partial(_api, vip, KUBERNETES_API, None, options))
        )
    path.append(Hop(f"site http://{config.site.host}/ at {ingress}", partial(_site, config, HTTP, None, options)))
    if options.ca_file is not None:  # the lab CA from the `caCertificate` output
        https = f"site https://{config.site.host}/ at {ingress}"
        path.append(Hop(https, partial(_site, config, HTTPS, options.ca_file, options)))
    return path


def walk(path: list[Hop]) -> Iterator[tuple[Hop, Outcome]]:
    """Each hop and its outcome, up to and including the first broken one."""
    for hop in path:
        outcome = hop.probe()
        yield hop, outcome
        if not outcome.ok:
            return


def _hosts_line(config: LabConfig, options: CheckOptions) -> Outcome:
    host, ingress = config.site.host, str(config.load_balancer.ingress_address)
    line = outputs.hosts_line(config)
    found = read_hosts(options.hosts_file, host)
    if found[:1] == [ingress]:
        return Outcome(True, f"{options.hosts_file}: {line}")
    seen = f"{host} is {found[0]} there" if found else f"no line for {host}"
    return Outcome(
        False, f"{options.hosts_file}: {seen}", f"put this line in {options.hosts_file} (first for {host}): {line}"
    )


def _route(target: str, wan: str, fix: str, options: CheckOptions) -> Outcome:
    route = route_to(target, options.timeout)
    if route.gateway == wan:
        return Outcome(True, f"{target} via {wan}")
    seen = f"goes via {route.gateway}" if route.gateway else f"has no route through the router ({route.text})"
    return Outcome(False, f"{target} {seen}", fix)


def _router(wan: str, vm_id: int, host: str, options: CheckOptions) -> Outcome:
    answer = tcp(wan, SSH, options.timeout)
    if answer in (Answer.OPEN, Answer.REFUSED):  # a refusal is an answer: the router is up
        return Outcome(True, f"{wan} answers (SSH {answer.value})")
    return Outcome(
        False,
        f"{wan} {answer.value} within {options.timeout:g} s",
        f"is the router container running (on {host}: pct status {vm_id}; pct start {vm_id})? "
        f"is this machine on the WAN subnet of network.router.wanAddress?",
    )


def _api(address: str, port: int, guest: Guest | None, options: CheckOptions) -> Outcome:
    answer = tcp(address, port, options.timeout)
    if answer is Answer.OPEN:
        return Outcome(True, f"{address}:{port} accepts connections")
    power = f"; is the VM running (on {guest.proxmox_node}: qm status {guest.vm_id})?" if guest else ""
    if answer is Answer.REFUSED:
        fix = (
            "the router refuses sources outside network.adminCidrs: is this machine's address in it? "
            f"otherwise nothing listens: is the node booted into Talos (Proxmox console){power}"
        )
    else:
        fix = (
            "the router answers but does not forward to the lab: on the router, "
            "`sysctl net.ipv4.ip_forward` must be 1 and `nft list ruleset` must show the lab's ruleset "
            f"(re-run `pulumi up` to push it){power}"
        )
    return Outcome(False, f"{address}:{port} {answer.value} within {options.timeout:g} s", fix)


def _site(config: LabConfig, port: int, ca_file: Path | None, options: CheckOptions) -> Outcome:
    host, ingress = config.site.host, str(config.load_balancer.ingress_address)
    page = get_page(ingress, port, host, options.timeout, ca_file)
    scheme = "https" if ca_file is not None else "http"
    if page.status == 200 and host in page.body:
        return Outcome(True, f"{scheme}://{host}/ answers 200 with the site's page")
    diagnose = "KUBECONFIG=./kubeconfig kubectl get svc -n traefik,pods -n metallb-system -o wide"
    if page.answer is not Answer.OPEN:
        detail = f"{ingress}:{port} {page.answer.value} within {options.timeout:g} s"
        fix = f"MetalLB must announce {ingress} from a worker and Traefik must listen there: {diagnose}"
    elif page.error:
        detail = f"{scheme}://{host}/ failed: {page.error}"
        fix = f"the certificate must be signed by {ca_file} for {host}: `kubectl get secret -n traefik`"
    else:
        detail = f"{scheme}://{host}/ answers {page.status} without the site's page"
        fix = "Traefik answers but routes no Ingress to the site: KUBECONFIG=./kubeconfig kubectl get ingress,pods -A"
    return Outcome(False, detail, fix)
