# The MSP co-management gateway.
#
#   make run     install what is missing, build, start PostgreSQL + nginx with the demo
#   make stop    stop what make run started (data is kept in .run/)
#   make test    the whole suite on throwaway instances (unit + end-to-end)
#   make schema  rewrite migrations/current/schema.sql, the schema the migrations
#                produce, from a throwaway PostgreSQL (after adding a migration)
#   make SANITIZE=1 ...   build everything with ASan and UBSan
#
# Everything is built into build/ (or build-san/ with SANITIZE=1).

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD    ?= build-san
SANFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD    ?= build
SANFLAGS  =
endif

CC       ?= cc
WARN      = -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -fPIC $(WARN) $(SANFLAGS) -Iservices \
            -I$(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql) \
            $(PDF_CFLAGS)
LDFLAGS  += $(SANFLAGS)
# cairo and pango draw the review packs' PDF (services/packs/pack_pdf.c);
# only mspctl and the tests link them, never the nginx module.  Recursive
# (=): pkg-config runs after `make deps` has installed them.
PDF_CFLAGS = $(shell pkg-config --cflags pangocairo pangoft2 fontconfig 2>/dev/null)
PDF_LIBS   = $(shell pkg-config --libs pangocairo pangoft2 fontconfig 2>/dev/null)
LIBS      = -lpq -ljansson -ljwt -lcrypto $(PDF_LIBS) -lm

SVC_SRCS  = $(filter-out services/ctl/%,$(wildcard services/*/*.c))
SVC_OBJS  = $(SVC_SRCS:%.c=$(BUILD)/%.o)
CTL_SRCS  = $(wildcard services/ctl/*.c)
CTL_OBJS  = $(CTL_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)
MODULE_SO = $(BUILD)/nginx/objs/ngx_http_msp_module.so

.PHONY: all deps run stop test unit e2e bench schema clean
all: $(BUILD)/libmsp.a $(BUILD)/mspctl $(UNIT_BINS) $(MODULE_SO)

deps:
	@deploy/deps.sh

$(BUILD)/%.o: %.c $(wildcard services/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libmsp.a: $(SVC_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/mspctl: $(CTL_OBJS) $(BUILD)/libmsp.a
	$(CC) $(LDFLAGS) -o $@ $(CTL_OBJS) $(BUILD)/libmsp.a $(LIBS)

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libmsp.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmsp.a $(LIBS) -lcmocka

# The SLA arithmetic benchmark (tests/bench/run.sh builds and runs it).
$(BUILD)/bench/sla_bench: tests/bench/sla_bench.c $(BUILD)/libmsp.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmsp.a $(LIBS)

$(MODULE_SO): $(BUILD)/libmsp.a $(wildcard module/*) deploy/build-module.sh
	deploy/build-module.sh $(BUILD) "$(SANFLAGS)"

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do $$t; done

run: deps all
	@deploy/stack.sh up .run --http-port 8080 --print --build $(BUILD) $(if $(filter 1,$(SANITIZE)),--sanitize)

stop:
	@deploy/stack.sh down .run

test: deps all
	@SANITIZE=$(SANITIZE) deploy/test.sh $(BUILD)

bench: deps all
	@tests/bench/run.sh $(BUILD)

# The current schema in one file; tests/e2e/test_schema_file.py fails
# until it is rewritten after a migration is added.
schema: deps $(BUILD)/mspctl
	@deploy/schema-dump.sh --build $(BUILD)

clean:
	rm -rf build build-san
