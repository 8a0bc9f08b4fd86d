# `make demo` and `make test` are the two commands of the README's quick start.
# Each creates .venv on first use; without make, run scripts/demo.sh or scripts/test.sh.
.PHONY: demo test lint bench clean

# The port `make demo` serves the model on: make demo PORT=5002 when 5001 is taken.
PORT ?= 5001

demo:
	PORT=$(PORT) scripts/demo.sh

test:
	scripts/test.sh

lint:
	scripts/setup.sh dev && .venv/bin/pre-commit run --all-files

bench:
	scripts/setup.sh dev && .venv/bin/python -m benchmarks --quick

clean:
	rm -rf .venv example_registry/registry example_registry/gitreg-runs test-artifacts
