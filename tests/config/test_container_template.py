"""`homelab:proxmox.containerTemplate`: where the Debian template comes from, validated like the rest."""

from __future__ import annotations

import pytest

from config.loading import ConfigError, parse_lab_config
from config.models import DEBIAN_TEMPLATE_SHA512, DEBIAN_TEMPLATE_URL
from tests.support import stack_config


def _with_template(template: dict[str, str]) -> dict[str, object]:
    raw = stack_config("dev").model_dump(by_alias=True, mode="json", exclude_none=True)
    raw["proxmox"]["containerTemplate"] = template
    return raw


def test_the_default_is_the_pinned_template() -> None:
    template = stack_config("dev").proxmox.container_template
    assert (template.url, template.sha512) == (DEBIAN_TEMPLATE_URL, DEBIAN_TEMPLATE_SHA512)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            {"url": "ftp://download.proxmox.com/t.tar.zst"},
            "proxmox.containerTemplate.url: 'ftp://download.proxmox.com/t.tar.zst' is not an http(s) URL "
            "of a .tar.zst, .tar.xz or .tar.gz file",
        ),
        (
            {"url": "http://download.proxmox.com/images/system/"},
            "proxmox.containerTemplate.url: 'http://download.proxmox.com/images/system/' is not an http(s) URL "
            "of a .tar.zst, .tar.xz or .tar.gz file",
        ),
        (
            {"sha512": "ABC123"},
            "proxmox.containerTemplate.sha512: 'ABC123' is not a SHA-512 digest (128 lowercase hex digits)",
        ),
        ({"checksum": "ab"}, "proxmox.containerTemplate.checksum: unknown key"),
    ],
)
def test_a_bad_template_is_one_line_naming_the_field(template: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_lab_config(_with_template(template))
    assert [str(problem) for problem in raised.value.problems] == [message]
