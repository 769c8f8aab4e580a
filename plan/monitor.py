"""A mock monitor that records what the program registers, as the engine would see it."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import provider_pb2, resource_pb2

# The SDK has no public way to run its event loop from a monitor call; MockMonitor itself uses these.
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await  # pyright: ignore[reportPrivateUsage]

from plan.options import RecordedOptions, recorded_options
from plan.redaction import has_unknowns, key_paths, redact, secret_digests


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
    options: RecordedOptions = field(default_factory=RecordedOptions)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict[str, list[str]])
    """Per top-level input, the URNs its value came from (`homelab diff`: what a replacement makes unknown)."""
    secret_digests: dict[str, str] = field(default_factory=dict[str, str])
    """Per secret input path, a keyed digest of its value (`homelab diff`); never written anywhere."""

    @property
    def aliases(self) -> list[str]:
        return self.options.aliases

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
            "options": self.options.as_json(),
        }


@dataclass
class InvokeRecord:
    token: str
    args: dict[str, Any]
    secret_args: list[str]
    key_paths: list[str]
    """Every key path of the args as sent, secrets included (keys only, no values)."""
    returned: Any = None
    """The response's `return` struct, as the program receives it."""

    @functools.cached_property
    def result(self) -> dict[str, Any]:
        """What the invoke returned, redacted; deserialised when first asked for (rarely needed)."""
        if self.returned is None:
            return {}
        value, _ = redact(rpc.deserialize_properties(self.returned))
        return value


class RecordingMonitor(MockMonitor):
    """Records each registration's parent, provider, dependencies and secret inputs."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}
        self.invokes: list[InvokeRecord] = []

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        # Deserialised once, for the record and for the mocks (which never see unknowns outside a preview).
        raw = rpc.deserialize_properties(request.object, keep_unknowns=True)
        inputs, secret_paths = redact(raw)
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
            options=recorded_options(request, urn),
            property_dependencies={
                key: sorted(deps.urns) for key, deps in request.propertyDependencies.items() if deps.urns
            },
            secret_digests=secret_digests(raw) if secret_paths else {},
        )
        mock_inputs = rpc.deserialize_properties(request.object) if has_unknowns(raw) else raw
        return self._register(request, urn, mock_inputs)

    def ReadResource(self, request: Any) -> Any:
        """A read (the program's StackReference to its own stack) is in the plan like a registration: it is
        state the guests wait on, with its id (the stack read) as its only input."""
        response = super().ReadResource(request)
        properties, _ = redact(rpc.deserialize_properties(request.properties))
        self.registrations[response.urn] = Registration(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            provider=_provider_urn(request.provider),
            custom=True,
            dependencies=sorted({*request.dependencies} - {request.parent}),
            inputs={"id": request.id, **properties},
            secret_inputs=[],
        )
        return response

    def _register(self, request: Any, urn: str, inputs: dict[str, Any]) -> Any:
        """MockMonitor.RegisterResource, plus the engine's `additional_secret_outputs`."""
        resource_args = MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=inputs,
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
        )
        id_, state = self.mocks.new_resource(resource_args)
        secret_outputs = set(request.additionalSecretOutputs)
        state = {key: rpc.wrap_rpc_secret(value) if key in secret_outputs else value for key, value in state.items()}
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_ or "", state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_ or "", object=_serialized(state))

    def Invoke(self, request: Any) -> Any:
        """MockMonitor.Invoke, recording the call; the args are deserialised once, as for resources."""
        if request.tok == "pulumi:pulumi:getResource":
            return super().Invoke(request)
        _ensure_event_loop()
        raw = rpc.deserialize_properties(request.args, keep_unknowns=True)
        args, secret_paths = redact(raw)
        record = InvokeRecord(token=request.tok, args=args, secret_args=secret_paths, key_paths=key_paths(raw))
        self.invokes.append(record)
        mock_args = rpc.deserialize_properties(request.args) if has_unknowns(raw) else raw
        answer = self.mocks.call(MockCallArgs(token=request.tok, args=mock_args, provider=request.provider))
        result, failures = (answer, None) if isinstance(answer, dict) else answer
        ret_proto = _serialized(result)
        record.returned = ret_proto
        return resource_pb2.ResourceInvokeResponse(
            failures=[provider_pb2.CheckFailure(property=prop, reason=reason) for prop, reason in failures or []],
            **{"return": ret_proto},
        )


def _serialized(values: dict[str, Any]) -> Any:
    return _sync_await(rpc.serialize_properties(values, {}))


def _provider_urn(reference: str) -> str:
    """Provider references are `<urn>::<id>`; the URN alone identifies the provider."""
    return reference.rsplit("::", 1)[0] if reference else ""
