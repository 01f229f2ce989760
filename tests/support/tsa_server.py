#!/usr/bin/env python3
"""A local RFC 3161 time-stamping authority for tests: `openssl ts -reply` behind HTTP.

Usage: tsa_server.py DIR [--ca]   (DIR gets a fresh key, certificate and config; the server
prints its port on stdout and answers POSTed TimeStampReq bodies on 127.0.0.1 until killed.)

With --ca, the TSA certificate (DIR/tsa.crt) is issued by a test certificate authority
(DIR/ca.crt), as real TSAs' are, instead of being self-signed.
"""
import http.server
import os
import subprocess
import sys
import tempfile

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
ext = os.path.join(d, "ext.cnf")
with open(ext, "w") as f:
    f.write("[req]\ndistinguished_name=dn\n[dn]\n[v3_tsa]\nbasicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature,nonRepudiation\n"
            "extendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\n")
if "--ca" in sys.argv[2:]:
    with open(ext, "a") as f:
        f.write("[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                "subjectKeyIdentifier=hash\n")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", os.path.join(d, "ca.key"), "-out", os.path.join(d, "ca.crt"),
                    "-days", "30", "-subj", "/CN=liveproof test CA", "-extensions", "v3_ca",
                    "-config", ext], check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", os.path.join(d, "tsa.key"), "-out", os.path.join(d, "tsa.csr"),
                    "-subj", "/CN=liveproof test TSA (CA-issued)", "-config", ext],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", os.path.join(d, "tsa.csr"),
                    "-CA", os.path.join(d, "ca.crt"), "-CAkey", os.path.join(d, "ca.key"),
                    "-set_serial", "2", "-days", "30", "-out", os.path.join(d, "tsa.crt"),
                    "-extfile", ext, "-extensions", "v3_tsa"], check=True, capture_output=True)
else:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", os.path.join(d, "tsa.key"), "-out", os.path.join(d, "tsa.crt"),
                    "-days", "30", "-subj", "/CN=liveproof test TSA", "-extensions", "v3_tsa",
                    "-config", ext], check=True, capture_output=True)
with open(os.path.join(d, "serial"), "w") as f:
    f.write("01\n")
cnf = os.path.join(d, "ts.cnf")
with open(cnf, "w") as f:
    f.write(f"""[tsa]
default_tsa = t
[t]
serial = {d}/serial
crypto_device = builtin
signer_cert = {d}/tsa.crt
certs = {d}/tsa.crt
signer_key = {d}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")


class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with tempfile.TemporaryDirectory() as t:
            q, r = os.path.join(t, "q.tsq"), os.path.join(t, "r.tsr")
            open(q, "wb").write(body)
            p = subprocess.run(["openssl", "ts", "-reply", "-queryfile", q, "-config", cnf, "-out", r],
                               capture_output=True)
            if p.returncode != 0:
                self.send_response(400)
                self.end_headers()
                return
            data = open(r, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
