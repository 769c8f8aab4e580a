"""A mock monitor that records what the program registers, as the engine would see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2

# The SDK has no public way to run its event loop from a monitor call; MockMonitor itself uses these.
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await  # pyright: ignore[reportPrivateUsage]

SECRET = "[secret]"
UNKNOWN = "[unknown]"


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    provider: str
    custom: bool
    dependencies: list[str]
    inputs: dict[str, Any]
    secret_inputs: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "provider": self.provider,
            "custom": self.custom,
            "dependencies": self.dependencies,
            "inputs": self.inputs,
            "secretInputs": self.secret_inputs,
        }


@dataclass
class InvokeRecord:
    token: str
    args: dict[str, Any]
    secret_args: list[str]
    key_paths: list[str]
    """Every key path of the args as sent, secrets included (keys only, no values)."""
    result: dict[str, Any] = field(default_factory=dict)


class RecordingMonitor(MockMonitor):
    """Records each registration's parent, provider, dependencies and secret inputs."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}
        self.invokes: list[InvokeRecord] = []

    def RegisterResource(self, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            urn = self.make_urn(request.parent, request.type, request.name)
            inputs, secret_paths = redact(rpc.deserialize_properties(request.object, keep_unknowns=True))
            dependencies = {*request.dependencies}
            for property_dependencies in request.propertyDependencies.values():
                dependencies.update(property_dependencies.urns)
            self.registrations[urn] = Registration(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                provider=_provider_urn(request.provider),
                custom=bool(request.custom),
                dependencies=sorted(dependencies - {request.parent}),
                inputs=inputs,
                secret_inputs=secret_paths,
            )
        return self._register(request)

    def _register(self, request: Any) -> Any:
        """MockMonitor.RegisterResource, plus the engine's `additional_secret_outputs`."""
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        resource_args = MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=rpc.deserialize_properties(request.object),
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
        )
        id_, state = self.mocks.new_resource(resource_args)
        secret_outputs = set(request.additionalSecretOutputs)
        state = {key: rpc.wrap_rpc_secret(value) if key in secret_outputs else value for key, value in state.items()}
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_ or "", state)
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_ or "", object=obj_proto)

    def Invoke(self, request: Any) -> Any:
        raw = rpc.deserialize_properties(request.args, keep_unknowns=True)
        args, secret_paths = redact(raw)
        record = InvokeRecord(token=request.tok, args=args, secret_args=secret_paths, key_paths=key_paths(raw))
        self.invokes.append(record)
        response = super().Invoke(request)
        record.result, _ = redact(rpc.deserialize_properties(response.__getattribute__("return")))
        return response


def _provider_urn(reference: str) -> str:
    """Provider references are `<urn>::<id>`; the URN alone identifies the provider."""
    return reference.rsplit("::", 1)[0] if reference else ""


def redact(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """Replace secret values by "[secret]" (recording their paths) and unknowns by "[unknown]"."""
    if rpc.is_rpc_secret(value):
        return SECRET, [path]
    if value is rpc.UNKNOWN or value == rpc.UNKNOWN:
        return UNKNOWN, []
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        secrets: list[str] = []
        for key in sorted(value):
            result[key], found = redact(value[key], f"{path}.{key}" if path else str(key))
            secrets += found
        return result, secrets
    if isinstance(value, list):
        items = [redact(item, f"{path}[{index}]") for index, item in enumerate(value)]
        return [item for item, _ in items], [p for _, found in items for p in found]
    if isinstance(value, float) and value.is_integer():
        return int(value), []  # the wire format has only doubles
    return value, []


def key_paths(value: Any, path: str = "") -> list[str]:
    """Dotted key paths of nested mappings, looking through secret wrappers."""
    if rpc.is_rpc_secret(value):
        return key_paths(rpc.unwrap_rpc_secret(value), path)
    if not isinstance(value, dict):
        return []
    paths: list[str] = []
    for key in sorted(value):
        child = f"{path}.{key}" if path else str(key)
        paths += [child, *key_paths(value[key], child)]
    return paths
