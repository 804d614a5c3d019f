"""The Piper worker process: ``python -m grokassist.robot._piper_worker MODEL CONFIG``.

Piper (and the espeak-ng it links for phonemes) is GPL-3.0, so it runs here, in
its own process, never imported by grokassist itself. Protocol, over pipes:
one JSON line per request on stdin, ``{"id": N, "text": "..."}``; for each, a
JSON header line on stdout, ``{"id": N, "bytes": K, "sample_rate": R}`` (or
``"error"``), then K bytes of 16-bit mono PCM. The first line out is
``{"ready": true, ...}`` once the voice is loaded. EOF on stdin ends it.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    model, config = sys.argv[1], sys.argv[2]
    out = sys.stdout.buffer
    try:
        from piper.voice import PiperVoice

        voice = PiperVoice.load(model, config_path=config)
    except Exception as exc:  # reported to the parent, which raises it
        out.write((json.dumps({"ready": False, "error": repr(exc)}) + "\n").encode())
        out.flush()
        return 1
    rate = voice.config.sample_rate
    out.write((json.dumps({"ready": True, "sample_rate": rate}) + "\n").encode())
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        request_id = -1
        try:
            request = json.loads(line)
            request_id = int(request["id"])
            pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(str(request["text"])))
            header: dict[str, object] = {"id": request_id, "bytes": len(pcm), "sample_rate": rate}
        except Exception as exc:
            pcm = b""
            header = {"id": request_id, "bytes": 0, "error": repr(exc)}
        out.write((json.dumps(header) + "\n").encode())
        out.write(pcm)
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
