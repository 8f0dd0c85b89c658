"""The lab's fake API server's admin interface (tests/lab/apiserver/fake-apiserver), on its
Unix socket: shared by the benches that drive it (kubernetes_measure.py, scale.py)."""

import http.client
import json
import socket


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("admin")
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


def admin(sock, path, body=None):
    """POSTs body (JSON) to path, or GETs it without one; -> the decoded JSON answer."""
    conn = UnixHTTPConnection(sock)
    data = json.dumps(body) if body is not None else None
    conn.request("POST" if data is not None else "GET", path, body=data,
                 headers={"Content-Type": "application/json"})
    answer = json.loads(conn.getresponse().read())
    conn.close()
    return answer
