# The two commands of the README: `make run` (the main job) and `make test`.
# Both build their own virtual environment in .venv on first use.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
GENET5 := $(VENV)/bin/genet5
EXAMPLE := src/genet5/examples/erwinia_phage_MT939486
OUT    ?= out

.PHONY: run test test-fast install tools bench-tools clean

install: $(VENV)/.installed

# torch is pinned to 2.13.0 here because that wheel is the CPU build on these machines; an open
# range can pull a multi-GB CUDA build. The package itself accepts torch >= 2.6.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,plot,train,lm]'
	touch $@

# Debian tools the tests and benchmarks compare against: genometools (`gt gff3validator`, used by
# the writer tests) and prodigal (the prokaryotic peer of bench/prokaryote/vs_prodigal.py).
# Installed where missing and apt-get can run; otherwise the tests that need them are skipped.
DEB_TOOLS := gt:genometools prodigal:prodigal
tools:
	@for pair in $(DEB_TOOLS); do cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$cmd >/dev/null 2>&1 && continue; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { [ -n "$$updated" ] || apt-get update -qq >/dev/null 2>&1; updated=1; \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkg >/dev/null 2>&1; } \
	      || echo "warning: could not install $$pkg; tests needing $$cmd will be skipped"; \
	  else echo "warning: $$cmd ($$pkg) missing and not root; tests needing it will be skipped"; fi; done

# AUGUSTUS with its species parameters, the eukaryotic peer of the benchmarks (large: not for tests);
# ARAGORN's tRNA genes for bench/prokaryote/phage_errors.py; pyrodigal, the Python API's peer
# (bench/prokaryote/vs_pyrodigal.py).
bench-tools: tools install
	@$(PY) -c "import pyrodigal" 2>/dev/null || $(PY) -m pip install -q pyrodigal || echo "warning: could not install pyrodigal"
	@command -v augustus >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq augustus augustus-data; } >/dev/null 2>&1 || echo "warning: could not install augustus"
	@command -v aragorn >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq aragorn; } >/dev/null 2>&1 || echo "warning: could not install aragorn"

# The main job: annotate the bundled example genome (a validation phage, held out of the bundled
# model's training) with the bundled model, check the GFF3 with gt where installed, and score it
# against the example's reference annotation.
run: install
	@mkdir -p $(OUT)
	$(GENET5) predict $(EXAMPLE)/genome.fa.gz -o $(OUT)/example.gff3 --proteins $(OUT)/example.faa --threads 2
	@if command -v gt >/dev/null 2>&1; then gt gff3validator $(OUT)/example.gff3; else echo "gt not installed: skipping gff3validator"; fi
	$(GENET5) eval $(EXAMPLE)/annotation.gff3.gz $(OUT)/example.gff3 --genome $(EXAMPLE)/genome.fa.gz --json $(OUT)/example_eval.json

test: install tools
	$(PY) -m pytest -q

# Everything but tests marked slow.
test-fast: install
	$(PY) -m pytest -q -m "not slow"

clean:
	rm -rf $(OUT) .pytest_cache
