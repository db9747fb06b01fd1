"""The test kit: what tests and benchmarks share to run beside the servers of infra/.

A package of its own at the top, not under tests/, so that benchmarks, infra.deploy and the
screenshot script use it without importing tests/: nothing outside tests/ imports tests/. The
services never import it; deploy, a command, takes its API client.

- stack.py: isolated settings, a stack dir, state and ports of their own;
- launcher.py: one of infra's servers (its command, environment and readiness check) run as a
  child process, to kill, restart or time; everything else runs under supervisord (infra.stack);
- spare_stack.py: S3, a broker, Elasticsearch and the stream of their own, on free ports;
- photos.py: synthetic image files built from numpy arrays; real_photos.py: the corpus and
  img/, and copies of them; uploads.py: upload bodies and image ids;
- field_messages.py, hostile_messages.py: Kafka messages as the API writes them, and hostile ones;
- api_client.py: the one HTTP client of the API (an operation per route, `request` for the rest).
"""
