"""Which ``Host`` headers the local server answers, and which addresses it may listen on (issue 17).

DNS rebinding: a web page on ``evil.example`` can point its own name at 127.0.0.1 and then read the local
server from the developer's browser, because the browser thinks it talks to ``evil.example``. Such requests
carry ``Host: evil.example``, so the server answers only Host names that are loopback or that it was told
it is reached by (the address it listens on, and ``--allow-host`` names), and 421 Misdirected Request
otherwise.
"""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``*.localhost`` (RFC 6761) and loopback IP addresses (127/8, ::1)."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name part of a Host header: ``[::1]:8090`` -> ``::1``, ``Example.COM:80`` -> ``example.com``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header[1:]
    if header.count(":") == 1:
        header = header.split(":", 1)[0]
    return header.rstrip(".")


class HostCheck:
    """The Host names a server bound to ``listen`` accepts besides loopback ones."""

    def __init__(self, listen: str, extra: list[str] | None = None) -> None:
        names = {host_name(h) for h in extra or [] if h.strip()}
        # The listen address itself, wildcards too: base_url (and so every uploadUri) is built from it.
        # A page can send "Host: 0.0.0.0" only by asking for 0.0.0.0 itself, which is no rebinding.
        if listen:
            names.add(host_name(listen if ":" not in listen else f"[{listen}]"))
        self.names = frozenset(names)

    def allows(self, header: str | None) -> bool:
        if not header:
            return False  # HTTP/1.1 requires Host; a request without one did not come from a browser page
        name = host_name(header)
        return is_loopback(name) or name in self.names
