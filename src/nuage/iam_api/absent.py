"""Listings of IAM entities Nuage does not have (roles, OpenID Connect providers): always empty, so that
clients and cleanup scripts that walk every entity kind of an account work."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nuage.iam_api.protocol import Action, Call, sub


def list_roles(call: Call, result: ET.Element) -> None:
    sub(result, "Roles")
    sub(result, "IsTruncated", "false")


def list_open_id_connect_providers(call: Call, result: ET.Element) -> None:
    sub(result, "OpenIDConnectProviderList")


ACTIONS: dict[str, Action] = {
    "ListRoles": list_roles,
    "ListOpenIDConnectProviders": list_open_id_connect_providers,
}
