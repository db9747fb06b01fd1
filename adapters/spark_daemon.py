"""The daemon that forks the Spark Python workers of our jobs: pyspark's own, after making every
log record of the workers a JSON line (adapters/json_logs.py), as the driver's are.

Spark starts it as `python -m adapters.spark_daemon` (spark.python.daemon.module); without it,
a library's warning in a worker (exifread's "PNG file does not have exif data.") reached the
stream's log as bare text through Python's last-resort handler.
"""

from pyspark import daemon

from adapters.json_logs import log_process_as_json

if __name__ == "__main__":
    log_process_as_json()
    daemon.manager()
