"""Scoring audio answers offline: TTS, voice cloning and conversion, enhancement, separation, spoken replies.

- ``output``: one produced audio answer -> a status and mono float32 at 16 kHz (``check_output``, ``read_output``);
- ``dsp``: numpy signal metrics (SI-SDR, permutation-invariant SI-SDR(i), F0 statistics, duration);
- ``models``: the scoring models that ship inside packages (Whisper tiny.en, GE2E, DNSMOS), loaded once on use;
- ``metrics``: every speech metric declared once, named after its scoring model, and ``score``.

Nothing heavy is imported here: each scoring library is imported when a metric first needs it.
"""
