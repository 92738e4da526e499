"""A Tunduk Security Server simulator: the REST services of docs/tunduk-protocol.md over a
``kattoo-population/1`` file, with faults on request (``/_admin/``).

Plain WSGI on the standard library and no Django, so that tests, the demo and benchmarks
can start it in a fraction of a second: ``python -m kattoo.tunduk_sim --population FILE``.
"""
