-- wrk script for tests/bench/run.sh.  BENCH_MODE picks the request:
--
--   floor, queue  the URL given to wrk, unchanged (no per-request Lua)
--   get           GET /v1/tenants/{slug}/tickets/{PREFIX}-{n}, a random
--                 ticket of a random tenant of BENCH_TARGETS, n in 1..BENCH_MAX_NUMBER
--   list          GET /v1/tenants/{slug}/tickets?limit=50, a random tenant
--   events        GET /v1/tenants/{slug}/tickets/{PREFIX}-{n}/events, a random ticket
--   post          POST /v1/tenants/{slug}/tickets, a random tenant, a small JSON body
--
-- BENCH_TARGETS is "slug:PREFIX,slug:PREFIX,..."; BENCH_TOKEN, when set, is
-- sent as the bearer token.  At the end one line "BENCH_RESULT {json}"
-- gives the figures run.sh keeps (latencies in microseconds).

local mode = os.getenv("BENCH_MODE") or "floor"
local token = os.getenv("BENCH_TOKEN")
local max_number = tonumber(os.getenv("BENCH_MAX_NUMBER") or "1")

local targets = {}
for slug, prefix in string.gmatch(os.getenv("BENCH_TARGETS") or "", "([%w-]+):(%w+)") do
    targets[#targets + 1] = { slug = slug, prefix = prefix }
end

if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
end

local post_body = '{"title":"Printer offline on floor 2","description":"Opened by the benchmark.",'
    .. '"impact":"low","urgency":"medium","category":"printing"}'

-- Each thread gets its own random sequence.
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("thread_no", threads)
end

function init(args)
    math.randomseed(os.time() * 100 + (thread_no or 0))
end

local function target()
    return targets[math.random(#targets)]
end

if mode == "get" then
    function request()
        local t = target()
        return wrk.format("GET", "/v1/tenants/" .. t.slug .. "/tickets/" .. t.prefix .. "-"
                          .. math.random(max_number))
    end
elseif mode == "events" then
    function request()
        local t = target()
        return wrk.format("GET", "/v1/tenants/" .. t.slug .. "/tickets/" .. t.prefix .. "-"
                          .. math.random(max_number) .. "/events")
    end
elseif mode == "list" then
    function request()
        return wrk.format("GET", "/v1/tenants/" .. target().slug .. "/tickets?limit=50")
    end
elseif mode == "post" then
    wrk.headers["Content-Type"] = "application/json"
    function request()
        return wrk.format("POST", "/v1/tenants/" .. target().slug .. "/tickets", nil, post_body)
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, '
        .. '"p99_us": %d, "max_us": %d, "non2xx": %d, "connect_errors": %d, '
        .. '"read_errors": %d, "write_errors": %d, "timeouts": %d}\n',
        summary.requests, summary.duration, summary.bytes, latency:percentile(50),
        latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
