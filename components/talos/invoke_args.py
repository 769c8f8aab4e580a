"""Rebuild Talos secrets as typed Args before handing them to an invoke.

pulumiverse-talos 0.8.1 serialises a `Secrets` output passed straight into an
invoke with snake_case keys, which the provider rejects; the typed Args classes
serialise camelCase. Resources take the outputs as they are. (DESIGN §8)
"""

from __future__ import annotations

from typing import Any

import pulumiverse_talos as talos


def _certificate(pair: Any) -> talos.machine.CertificateArgs:
    return talos.machine.CertificateArgs(cert=pair.cert, key=pair.key)


def machine_secrets_args(secrets: Any) -> talos.machine.MachineSecretsArgs:
    certs, cluster, kubernetes = secrets.certs, secrets.cluster, secrets.secrets
    return talos.machine.MachineSecretsArgs(
        certs=talos.machine.CertificatesArgs(
            etcd=_certificate(certs.etcd),
            k8s=_certificate(certs.k8s),
            k8s_aggregator=_certificate(certs.k8s_aggregator),
            k8s_serviceaccount=talos.machine.KeyArgs(key=certs.k8s_serviceaccount.key),
            os=_certificate(certs.os),
        ),
        cluster=talos.machine.ClusterArgs(id=cluster.id, secret=cluster.secret),
        secrets=talos.machine.KubernetesSecretsArgs(
            bootstrap_token=kubernetes.bootstrap_token,
            secretbox_encryption_secret=kubernetes.secretbox_encryption_secret,
            aescbc_encryption_secret=kubernetes.aescbc_encryption_secret,
        ),
        trustdinfo=talos.machine.TrustdInfoArgs(token=secrets.trustdinfo.token),
    )


def client_configuration_args(client: Any) -> talos.client.GetConfigurationClientConfigurationArgs:
    return talos.client.GetConfigurationClientConfigurationArgs(
        ca_certificate=client.ca_certificate,
        client_certificate=client.client_certificate,
        client_key=client.client_key,
    )
