"""The driver JVM's JIT setting (:data:`corpus.engine.spark.DRIVER_JIT_OPTION`)."""

from __future__ import annotations

from corpus.engine import spark as spark_module


def test_the_driver_jvm_compiles_with_c1_only(spark):
    """The session the tests share was started by ``get_spark``: its JVM stops at tier 1."""
    jvm = spark._jvm
    bean = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(
        jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean")
    )
    assert bean.getVMOption("TieredStopAtLevel").getValue() == "1"


def test_c2_comes_back_on_request(monkeypatch):
    monkeypatch.delenv("CORPUS_JVM_C2", raising=False)
    assert spark_module.driver_jit_option() == spark_module.DRIVER_JIT_OPTION
    monkeypatch.setenv("CORPUS_JVM_C2", "1")
    assert spark_module.driver_jit_option() == ""
