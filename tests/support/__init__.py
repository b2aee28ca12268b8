"""Helpers shared by the tests and the benchmarks (source checkout only, not in the wheel).

``broker``: a real mosquitto on a free loopback port and a collecting subscriber. ``synth``: speech
and noise synthesised with espeak-ng, Piper and sox, mixed at a chosen SNR, and WAV writing.
"""
