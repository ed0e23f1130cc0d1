# lvcodec — `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
LVC    := $(VENV)/bin/lvc
STAMP  := $(VENV)/.installed
TESTSET ?= ../shared/testset
DEMO   ?= data/demo_bbb_320x180.mp4

.DEFAULT_GOAL := help
.PHONY: help install test test-all demo bench fuzz memory parity golden clean train \
	data-packages bench-training train-gpu device-pack

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## Create .venv with the pinned stack and lvcodec (editable)

test: $(STAMP) ## Run the fast tests (what CI runs)
	$(PY) -m pytest -q -m "not slow and not gpu" --durations=15

test-all: $(STAMP) ## Run every test, slow ones included
	$(PY) -m pytest -q

demo: $(STAMP) ## Encode + decode the bundled real clip with the shipped model
	@mkdir -p out
	$(LVC) encode $(DEMO) out/demo.lvc -y --psnr
	$(LVC) info out/demo.lvc
	$(LVC) decode out/demo.lvc out/demo.y4m -y

bench: $(STAMP) ## Every benchmark table: RD + speed vs x264/x265/SVT-AV1/JPEG, parity, memory, fuzz, training (lvc bench --list)
	$(LVC) bench --all --testset $(TESTSET) --out benchmarks

fuzz: $(STAMP) ## Fuzz the parser + decoder with 100k mutated streams -> benchmarks/reliability.md
	$(LVC) bench fuzz --out benchmarks

memory: $(STAMP) ## Peak memory of encode/decode vs length (60/600 frames) and size (1080p)
	$(LVC) bench memory --out benchmarks

parity: $(STAMP) ## Decoder vs encoder reconstruction: threads, random access, CUDA, foreign kernels
	$(LVC) bench parity --out benchmarks

golden: $(STAMP) ## Regenerate golden bitstreams, then review `git diff tests/data`
	GENERATE_EXPECTED=1 $(PY) -m pytest -q tests/bitstream tests/codec -k golden

data-packages: $(STAMP) ## Install the Debian wallpapers; extract the video packages' files into out/debian
	@if command -v apt-get >/dev/null; then \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q gnome-backgrounds plasma-workspace-wallpapers; \
		mkdir -p out/debian/debs && cd out/debian/debs && \
		apt-get download $$($(abspath $(PY)) -c "from lvcodec.train.data import VIDEO_PACKAGES; \
			print(*VIDEO_PACKAGES)") && for d in *.deb; do dpkg-deb -x "$$d" ..; done; \
	else echo "no apt-get: install gnome-backgrounds and plasma-workspace-wallpapers (or any \
	photographs and videos: lvc train reads any folder) by hand"; fi

bench-training: $(STAMP) ## Training throughput before/after the fast path + loss A/B -> benchmarks/training.md
	$(LVC) bench training --out benchmarks

MINUTES ?= 12
train-gpu: $(STAMP) ## Every stage on CUDA in MINUTES (default 12), bf16, largest batches that fit; export models/lvc-base
	test -d out/train-data || $(LVC) prepare-data out/train-data --packages-root out/debian
	$(LVC) train-all out/train-data --minutes $(MINUTES) --device cuda --export models/lvc-base

device-pack: $(STAMP) ## Wheels + real clips a bare GPU machine needs for bin/device-train -> out/device
	$(PY) bin/device-pack out/device

train: $(STAMP) ## Train intra 30, P 60, B 60, enhancement 45 min (all resume); export models/lvc-base
	-$(MAKE) data-packages
	$(LVC) prepare-data out/train-data --packages-root out/debian
	OMP_WAIT_POLICY=PASSIVE $(LVC) train out/train-data --minutes 30 --lr 1e-5 --export models/lvc-base
	OMP_WAIT_POLICY=PASSIVE $(LVC) train out/train-data --stage inter --frames 4 --minutes 60 \
		--export models/lvc-base
	OMP_WAIT_POLICY=PASSIVE $(LVC) train out/train-data --stage bi --frames 5 --minutes 60 \
		--export models/lvc-base
	OMP_WAIT_POLICY=PASSIVE $(LVC) train out/train-data --stage enhance --frames 5 --lr 3e-4 \
		--minutes 45 --export models/lvc-base

clean: ## Remove build outputs (keeps .venv)
	rm -rf out .pytest_cache build *.egg-info
