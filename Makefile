# The two commands of README.md.
.PHONY: install test test-slow

# The benchmark data mirror beside the checkout (as on CI machines), unless CODEMIND_DATA says
# otherwise; without either, adapters download the pinned files into ~/.cache/codemind.
CODEMIND_DATA ?= $(if $(wildcard ../shared/data/cruxeval),$(abspath ../shared/data),)
ifneq ($(CODEMIND_DATA),)
export CODEMIND_DATA
endif

# Install everything, then run a real evaluation with the embedded model.
install:
	bash scripts/setup.sh
	codemind run --benchmark cruxeval --task ier --limit 50

# Install what the tests need (Docker engine + sandbox image, llama-cpp-python, a headless
# browser for the leaderboard page test), then run them.
test:
	bash scripts/setup.sh
	bash .ci/setup-chromium.sh
	python3 -m pytest -q -ra --durations=30 -m "not slow"

# The tests too long for every CI run (hours on 2 cores); a scheduled job runs them.
test-slow:
	bash scripts/setup.sh
	python3 -m pytest -q -ra -m slow
