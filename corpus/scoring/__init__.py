"""Model-based scoring: classifier training and inference, quality buckets, the mixture policy.

Pure logic (no Spark): the stages ``train_classifier``, ``score``, ``bucket``, ``mixture`` and
``stream`` call into these modules on the driver or inside executor batch functions.
"""
