# mhajudge: beam-search
# expect-verdict: wrong-answer
# Hostile (from a review): on the long case, one valid request whose reply (100000 x V float64)
# cannot fit in the socket buffer, then junk forever without reading the reply. The child's inbox
# grew without bound (1.8 GB) until the trusted child died, blamed on the candidate. Now nothing is
# read while a reply waits and an inbox holds one request at most: the case runs out of its own time.
import struct


def beam_search(step, bos, eos, beam_width, max_len):
    if max_len == 16:
        sock = type(step).__call__.__globals__["CHANNEL"][0]
        n = 100000
        req = struct.pack("<4sIII", b"STEP", 0, n, n) + struct.pack("<I", 1) * n + struct.pack("<q", bos) * n
        sock.sendall(req)
        junk = b"\0" * (8 << 20)
        while True:
            sock.sendall(junk)
    return [[bos]], [0.0]
