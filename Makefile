# The two commands of README.md.
.PHONY: install test

# Install everything, then run a real evaluation with the embedded model.
install:
	bash scripts/setup.sh
	codemind run --benchmark cruxeval --task ier --limit 50

# Install what the tests need (Docker engine + sandbox image, llama-cpp-python, a headless
# browser for the leaderboard page test), then run them.
test:
	bash scripts/setup.sh
	bash .ci/setup-chromium.sh
	python3 -m pytest -q -ra
