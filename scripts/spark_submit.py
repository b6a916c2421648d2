"""``spark-submit`` entry point for the ``corpus`` command line.

    spark-submit --master spark://HOST:7077 [spark options] scripts/spark_submit.py \\
        run pipelines/web.yaml [corpus run options]

Everything after the script is a ``corpus`` command line. The master (and every other
``--conf``) given to spark-submit applies: ``corpus run`` gets spark-submit's master as its
``--master`` unless one is passed after the script. Python apps run in client deploy mode
(the driver is this process), as Spark's standalone manager requires for Python.

It lives outside the ``corpus`` package on purpose: spark-submit puts the script's folder
first on ``sys.path``, and inside the package ``corpus/inspect.py`` would shadow the
standard library's ``inspect``.
"""

from __future__ import annotations

import sys


def submitted_master() -> str | None:
    """``spark.master`` of the JVM spark-submit started (None outside spark-submit)."""
    import os

    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # set by spark-submit's PythonRunner
        return None
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()  # attaches to spark-submit's JVM; starts no context
    return SparkConf().get("spark.master", None)


def main() -> None:
    args = sys.argv[1:]
    master = submitted_master()
    if master and args[:1] == ["run"] and not any(a == "--master" or a.startswith("--master=") for a in args):
        args = [args[0], "--master", master, *args[1:]]
    sys.argv = ["corpus", *args]
    from corpus.cli import main as corpus_main

    corpus_main()


if __name__ == "__main__":
    main()
