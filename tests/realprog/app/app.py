# whittle's real-program suite: python3 with hashlib, ssl, zlib, json,
# socket, sqlite3, decimal.
import hashlib
import hmac
import json
import socket
import sqlite3
import ssl
import threading
import zlib
from decimal import Decimal

print("sha256", hashlib.sha256(b"whittle").hexdigest())
print("hmac", hmac.new(b"key", b"whittle", "sha1").hexdigest())
print("ssl", ssl.OPENSSL_VERSION.split()[0])
print("gunzip", len(zlib.decompress(zlib.compress(b"whittle " * 100))))
print("json", json.dumps(json.loads('{"b":[1,2,{"c":null}],"a":"x"}'), sort_keys=True))
db = sqlite3.connect(":memory:")
db.execute("create table t (x)")
db.executemany("insert into t values (?)", [(1,), (2,), (3,)])
print("sqlite", db.execute("select sum(x) from t").fetchone()[0])
print("decimal", Decimal("1.1") + Decimal("2.2"))
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)


def serve():
    c, _ = srv.accept()
    c.sendall(b"pong\n")
    c.close()


t = threading.Thread(target=serve)
t.start()
s = socket.create_connection(srv.getsockname())
print("socket", s.makefile().readline().strip())
t.join()
