"""`python http_stub.py PORT DIRECTORY [CERT KEY]`: http.server's file server on 0.0.0.0, without name lookups.

With CERT and KEY (PEM files) it serves HTTPS with that certificate.

`python -m http.server` resolves the host's own name when it binds; inside a namespace
that lookup may wait for a DNS server it cannot reach. Requests are logged to stderr
as http.server does (client address first).
"""

from __future__ import annotations

import functools
import http.server
import socketserver
import ssl
import sys


class Server(http.server.ThreadingHTTPServer):
    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "stub", int(self.server_address[1])


def main(port: int, directory: str, tls: list[str]) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
    with Server(("0.0.0.0", port), handler) as server:
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3:5])
