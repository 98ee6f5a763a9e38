# Entry points. `make lab` runs the main job on a local lab of containers;
# `make test` runs every test (CI calls exactly that).
SHELL := /bin/bash
VENV ?= .venv
PYTEST := $(VENV)/bin/python -m pytest
# Two lanes (pytest-xdist workers): whatever shares a lab is one xdist group that one worker
# runs in file order, the longest groups first (tests/conftest.py, docs/testing.md).
# `make test LANES=` runs everything in one process, in that same order.
LANES ?= -n 2 --dist loadgroup --no-loadscope-reorder
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Podman settings for this host (runc, ulimits) kept in the repo, not in /etc.
export CONTAINERS_CONF := $(CURDIR)/molecule/containers.conf

.PHONY: deps test lint unit integration molecule images lab lab-down bench bench-modules bench-lab clean

deps:
	@bash scripts/bootstrap.sh

## Every test: lint, unit, integration (real clusters), Molecule scenarios (real hosts).
test: deps images
	$(PYTEST) $(LANES) tests

lint: deps
	$(PYTEST) tests/lint

unit: deps
	$(PYTEST) tests/unit

integration: deps
	$(PYTEST) tests/integration

molecule: deps images
	$(PYTEST) $(LANES) tests/molecule tests/system

images: deps
	@bash scripts/build-images.sh

lab: deps images
	@bash scripts/lab.sh up

lab-down:
	@bash scripts/lab.sh down

## Both benchmarks (never part of `make test`): the modules' own cost (bench/run.py) and the
## lab's ratios over SSH and podman (bench/lab.py, writes docs/benchmarks.md and its plot;
## about 25 minutes, `make bench-lab BENCH_ARGS=--quick` for a short run). Exit 1 when a target
## is missed, after both ran.
bench: deps images
	@status=0; \
	$(VENV)/bin/python bench/run.py || status=1; \
	$(VENV)/bin/python bench/lab.py $(BENCH_ARGS) || status=1; \
	exit $$status

bench-modules: deps
	$(VENV)/bin/python bench/run.py

bench-lab: deps images
	$(VENV)/bin/python bench/lab.py $(BENCH_ARGS)

clean: lab-down
	rm -rf .cache tests/output
