import base64,zlib
exec(zlib.decompress(base64.b64decode("eJxLrUhN1lDKzC3ILypRyC+2zi/WK64sLknN1TDUVNIEAKm9Cko=")))
