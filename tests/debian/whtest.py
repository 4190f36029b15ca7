#!/usr/bin/python3
# whtest.py: a small program for whittle's Debian test image
# (tests/build-debian-image.sh). It imports standard modules backed by C
# extensions in /usr/lib/python3.11/lib-dynload (python3-minimal's _hashlib
# and _ssl, libpython3.11-stdlib's _json, _decimal, _ctypes, _bz2, _lzma),
# which the interpreter loads at run time and no DT_NEEDED names.
# Output is deterministic; every line is "name: value". Exit 0 when all ran.
import bz2
import ctypes
import decimal
import hashlib
import json
import lzma
import os
import ssl
import sys
import zlib

DATA = b"whittle"


def origin(name):
    mod = sys.modules[name]
    f = getattr(mod, "__file__", None)
    return os.path.basename(f) if f else "built-in"


print("python: %d.%d" % sys.version_info[:2])
print("json: %s via %s" % (json.dumps({"b": [1, 2], "a": "x"}, sort_keys=True), origin("_json")))
print("hashlib: sha256 %s via %s" % (hashlib.sha256(DATA).hexdigest(), origin("_hashlib")))
print("zlib: crc32 %08x adler32 %08x via %s" % (zlib.crc32(DATA), zlib.adler32(DATA), origin("zlib")))
print("decimal: %s via %s" % (decimal.Decimal(1) / decimal.Decimal(7), origin("_decimal")))
print("bz2: %d bytes round trip via %s" % (len(bz2.decompress(bz2.compress(DATA))), origin("_bz2")))
print("lzma: %d bytes round trip via %s" % (len(lzma.decompress(lzma.compress(DATA))), origin("_lzma")))
print("ctypes: c_int(42).value=%d via %s" % (ctypes.c_int(42).value, origin("_ctypes")))
ctx = ssl.create_default_context()
print("ssl: %s verify=%s via %s" % (ssl.OPENSSL_VERSION.split()[0], ctx.verify_mode.name, origin("_ssl")))
print("whtest.py: ok")
