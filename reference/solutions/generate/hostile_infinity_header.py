# mhajudge: generate
# expect-verdict: runtime-error
# Hostile (from a review): a frame header {"blobs": [Infinity]} (json accepts Infinity), sent to the
# child over the timed steps' channel and, in the sample case, written after the answer marker to the
# answer pipe. int(inf) raised OverflowError in the trusted child, which died. Now sizes must be whole
# numbers: each case is this file's own runtime error, and the child lives on.
import os
import struct
import sys

BAD = b'{"blobs": [Infinity]}'
FRAME = struct.pack("<Q", len(BAD)) + BAD


def generate(prompt, params, num_heads, max_new_tokens):
    f = sys._getframe()
    while f is not None:
        loc = f.f_locals
        if f.f_code.co_name == "driven_steps" and "sock" in loc:
            loc["sock"].sendall(FRAME)          # (1) to the Driver
            loc["sock"].recv(1)
        if f.f_code.co_name == "_answer" and "marker" in loc and max_new_tokens == 3:
            os.write(loc["w"], loc["marker"] + FRAME)   # (2) to the FrameFinder
            os._exit(0)
        f = f.f_back
    raise RuntimeError("not reached")
