# lot_margin_control: the two commands a new machine needs (see README.md).
.PHONY: demo demo-reset test lint

demo:        ## serve the demo database on http://localhost:8069
	bash scripts/demo.sh

demo-reset:  ## drop and rebuild the demo database, then serve it
	bash scripts/demo.sh --reset

test:        ## install/update the addon in the test database, run every test and linter
	bash scripts/test.sh

lint:        ## the linters alone (they also run inside `make test`)
	bash scripts/test.sh tests/test_lint.py

.PHONY: bench
bench:       ## run the benchmarks (bench/README.md); SCALE=full for the sizes the issues name
	bash scripts/bench.sh $(if $(SCALE),--scale $(SCALE),)
