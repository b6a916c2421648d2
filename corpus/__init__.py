"""corpus: GLM-4.5-style corpus building on Spark, and a small MoE trainer."""

__version__ = "0.1.0"
