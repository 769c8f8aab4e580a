"""The Kubernetes layer under mocks: provider, MetalLB, Traefik, example site."""

from __future__ import annotations

import pytest
import yaml

from components.kubernetes.helm_values import METALLB_CHART, TRAEFIK_CHART, metallb_values, traefik_values
from config.guests import CLIENT_KEY
from plan.write import plan_files
from tests.support import K8S_PROVIDER, KUBECONFIG, RELEASE, dig, named, stack_config, stack_plan, upstream

STACKS = ["dev", "ha", "minimal"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_goes_through_the_cluster_provider(stack: str) -> None:
    plan = stack_plan(stack)
    (provider,) = plan.by_type(K8S_PROVIDER)
    (kubeconfig,) = plan.by_type(KUBECONFIG)
    assert provider.inputs["kubeconfig"] == "[secret]"
    # Its config comes from the kubeconfig; it waits, as an ordering only, for the cluster's first health check.
    assert provider.dependencies == sorted([kubeconfig.urn, named(plan, f"{CLIENT_KEY}-health").urn])
    objects = [r for r in plan.registrations if r.type.startswith("kubernetes:")]
    assert len(objects) >= 9
    for registration in objects:
        assert registration.provider == provider.urn, registration.name


@pytest.mark.parametrize("stack", STACKS)
def test_releases_are_pinned(stack: str) -> None:
    plan = stack_plan(stack)
    releases = {r.inputs["name"]: r.inputs for r in plan.by_type(RELEASE)}
    for chart in (METALLB_CHART, TRAEFIK_CHART):
        release = releases[chart.release_name]
        assert (release["chart"], release["version"]) == (chart.chart, chart.version)
        assert release["repositoryOpts"] == {"repo": chart.repository}
        assert release["namespace"] == chart.namespace
    assert releases["metallb"]["values"] == metallb_values(not plan.config.cluster.workers)
    assert releases["traefik"]["values"] == traefik_values(str(plan.config.load_balancer.ingress_address))


@pytest.mark.parametrize("stack", STACKS)
def test_order_pool_after_release_traefik_after_pool_ingress_after_traefik(stack: str) -> None:
    plan = stack_plan(stack)
    metallb, traefik = named(plan, "metallb-release"), named(plan, "traefik-release")
    pool, advertisement = named(plan, "metallb-pool"), named(plan, "metallb-l2")
    assert metallb.urn in pool.dependencies and metallb.urn in advertisement.dependencies
    assert named(plan, "metallb-namespace").urn in metallb.dependencies
    assert {pool.urn, advertisement.urn} <= set(traefik.dependencies)
    assert traefik.urn in named(plan, "example-site-ingress").dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_site_workload_needs_only_the_provider(stack: str) -> None:
    plan = stack_plan(stack)
    ingress_stack = {r.urn for r in plan.registrations if r.name.startswith(("metallb", "traefik"))}
    for name in ("example-site-deployment", "example-site-service"):
        waits_for = upstream(plan, named(plan, name))
        assert not waits_for & ingress_stack, f"{name} waits for MetalLB/Traefik"
        assert named(plan, "kubernetes").urn in waits_for


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_plan_files_carry_the_request_path(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    files = plan_files(plan)
    pool = yaml.safe_load(files["kubernetes/ipaddresspool-lab-pool.yaml"])
    assert pool["spec"]["addresses"] == [str(config.load_balancer.pool)]
    advertisement = yaml.safe_load(files["kubernetes/l2advertisement-lab-l2.yaml"])
    assert advertisement["spec"]["ipAddressPools"] == ["lab-pool"]
    traefik = yaml.safe_load(files["helm/traefik.values.yaml"])
    annotations = dig(traefik, "service", "annotations")
    assert annotations["metallb.io/loadBalancerIPs"] == str(config.load_balancer.ingress_address)
    assert dig(traefik, "service", "spec", "type") == "LoadBalancer"
    service = yaml.safe_load(files["kubernetes/service-example-service.yaml"])
    assert [p["port"] for p in service["spec"]["ports"]] == [80]
    ingress = yaml.safe_load(files["kubernetes/ingress-example-site.yaml"])
    assert ingress["spec"]["ingressClassName"] == "traefik"
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == config.site.host
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    assert path["backend"]["service"] == {"name": "example-service", "port": {"number": 80}}
    entry_points = ingress["metadata"]["annotations"]["traefik.ingress.kubernetes.io/router.entrypoints"]
    assert entry_points == "web,websecure"
    deployment = yaml.safe_load(files["kubernetes/deployment-example-site.yaml"])
    assert deployment["spec"]["replicas"] == config.site.replicas
    namespace = yaml.safe_load(files["kubernetes/namespace-metallb-system.yaml"])
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert plan.outputs["url"] == f"http://{config.site.host}"
    assert plan.outputs["hostsLine"] == f"{config.load_balancer.ingress_address} {config.site.host}"


def test_example_outputs_match_design() -> None:
    outputs = stack_plan("dev").outputs
    assert outputs["hostsLine"] == "10.10.10.10 www.example.com"
    assert outputs["url"] == "http://www.example.com"
