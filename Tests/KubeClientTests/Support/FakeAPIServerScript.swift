/// A small scripted Kubernetes API server in Python, for TLS, authentication, retry and watch tests.
///
/// It listens on 127.0.0.1 only, writes its port to `--port-file`, and exits by itself after `--lifetime`
/// seconds even if the test that started it crashes.
enum FakeAPIServerScript {
    static let source = #"""
import json, socket, ssl, sys, threading, time, argparse, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

parser = argparse.ArgumentParser()
parser.add_argument("--port-file", required=True)
parser.add_argument("--cert"); parser.add_argument("--key"); parser.add_argument("--client-ca")
parser.add_argument("--token"); parser.add_argument("--lifetime", type=float, default=120)
args = parser.parse_args()

counts = {}
lock = threading.Lock()

def status(code, reason, message, **details):
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
            "reason": reason, "code": code}
    if details: body["details"] = details
    return body

def pod(name, ns, rv="1", extra=None):
    p = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns,
         "resourceVersion": rv}, "status": {"phase": "Running"}}
    if extra: p["metadata"]["annotations"] = extra
    return p

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass

    def send_json(self, code, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items(): self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def chunk(self, obj):
        data = (json.dumps(obj) + "\n").encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def identity(self):
        who = {}
        auth = self.headers.get("Authorization")
        if auth: who["authorization"] = auth.split(" ")[0]
        if auth and auth.startswith("Bearer "): who["token"] = auth[7:]
        try:
            cert = self.connection.getpeercert()
        except Exception:
            cert = None
        if cert:
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName": who["cn"] = v
        return who

    def handle_any(self, method):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        key = method + " " + url.path
        with lock:
            counts[key] = counts.get(key, 0) + 1
            n = counts[key]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/_count":
            return self.send_json(200, {"count": counts.get(q["key"][0], 0)})
        who = self.identity()
        if args.token and who.get("token") != args.token and "cn" not in who:
            return self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
        parts = url.path.strip("/").split("/")
        # /api/v1/namespaces/NS/pods[/NAME]
        if len(parts) >= 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods":
            ns = parts[3]
            name = parts[5] if len(parts) > 5 else None
            if name is None and q.get("watch") == ["true"]:
                return self.watch(ns, q)
            if name is None and method == "GET":
                items = [pod("p%d" % i, ns, str(10 + i)) for i in range(5)]
                limit = int(q.get("limit", ["0"])[0])
                start = int(q.get("continue", ["0"])[0])
                page = items[start:start + limit] if limit else items
                meta = {"resourceVersion": "20"}
                if limit and start + limit < len(items): meta["continue"] = str(start + limit)
                return self.send_json(200, {"kind": "PodList", "apiVersion": "v1", "metadata": meta,
                                            "items": page})
            if name and name.startswith("fail503-"):
                if n <= int(name.split("-")[1]):
                    return self.send_json(503, status(503, "ServiceUnavailable", "try later"))
            if name and name.startswith("throttle-"):
                if n <= int(name.split("-")[1]):
                    return self.send_json(429, status(429, "TooManyRequests", "slow down",
                                          retryAfterSeconds=1), {"Retry-After": "1"})
            if name == "missing":
                return self.send_json(404, status(404, "NotFound", 'pods "missing" not found',
                                                  name="missing", kind="pods"))
            if name == "invalid":
                return self.send_json(422, status(422, "Invalid", "Pod is invalid", name="invalid",
                    kind="Pod", causes=[{"reason": "FieldValueRequired", "message": "Required value",
                                         "field": "spec.containers"}]))
            if name == "plain500":
                return self.send_json(500, {"oops": True})
            if name == "slow":
                time.sleep(3)
            extra = {"whoami": json.dumps(who), "method": method,
                     "contentType": self.headers.get("Content-Type") or "",
                     "body": body.decode(), "query": url.query,
                     "peerPort": str(self.client_address[1])}
            return self.send_json(200, pod(name or "created", ns, str(n), extra))
        return self.send_json(404, status(404, "NotFound", "no route " + url.path))

    def watch(self, ns, q):
        rv = q.get("resourceVersion", [None])[0]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if rv in (None, "5"):
            self.chunk({"type": "ADDED", "object": pod("a", ns, "6")})
            time.sleep(0.05)
            self.chunk({"type": "MODIFIED", "object": pod("a", ns, "7")})
            time.sleep(0.05)
            # Drop the connection mid-stream, without the terminating chunk.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if rv == "7":
            self.chunk({"type": "BOOKMARK", "object": {"kind": "Pod", "apiVersion": "v1",
                        "metadata": {"resourceVersion": "8"}}})
            self.chunk({"type": "ERROR", "object": status(410, "Expired", "too old resource version: 7")})
            self.wfile.write(b"0\r\n\r\n"); self.wfile.flush()
            return
        if rv == "20":
            self.chunk({"type": "DELETED", "object": pod("p1", ns, "21")})
            for _ in range(300):
                time.sleep(0.1)
                try:
                    self.wfile.write(b""); self.wfile.flush()
                except Exception:
                    return
            self.wfile.write(b"0\r\n\r\n"); self.wfile.flush()
            return
        self.wfile.write(b"0\r\n\r\n"); self.wfile.flush()

    def do_GET(self): self.handle_any("GET")
    def do_POST(self): self.handle_any("POST")
    def do_PUT(self): self.handle_any("PUT")
    def do_PATCH(self): self.handle_any("PATCH")
    def do_DELETE(self): self.handle_any("DELETE")

class Server(ThreadingHTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address):
        pass  # clients that abort slow requests on purpose cause broken pipes

server = Server(("127.0.0.1", 0), Handler)
if args.cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(args.client_ca)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
threading.Timer(args.lifetime, lambda: os._exit(0)).start()
tmp = args.port_file + ".tmp"
with open(tmp, "w") as f: f.write(str(server.server_address[1]))
os.rename(tmp, args.port_file)
server.serve_forever()
"""#
}
