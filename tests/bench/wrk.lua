-- wrk script for tests/bench/run.sh.  BENCH_MODE picks the request:
--
--   floor, url    the URL given to wrk, unchanged (no per-request Lua)
--   get           GET /v1/tenants/{slug}/tickets/{PREFIX}-{n}, a random
--                 ticket of a random tenant of BENCH_TARGETS, n in 1..BENCH_MAX_NUMBER
--   list          GET /v1/tenants/{slug}/tickets?limit=50, a random tenant
--   events        GET /v1/tenants/{slug}/tickets/{PREFIX}-{n}/events?limit=50, a random ticket
--   post          POST /v1/tenants/{slug}/tickets, a random tenant, a small JSON body
--   patch         PATCH /v1/tenants/{slug}/tickets/{id} with If-Match: * and a new
--                 description, a random ticket of BENCH_TICKETS
--   comment       POST .../tickets/{id}/comments, a public comment, a random
--                 ticket of BENCH_TICKETS
--   escalate      POST .../tickets/{id}/escalations, a hierarchical escalation
--                 to provider:lead with its note, a random ticket of BENCH_TICKETS
--   time          POST .../tickets/{id}/time-entries, 15 minutes of work on a
--                 random ticket of BENCH_TICKETS
--
-- BENCH_TARGETS is "slug:PREFIX,slug:PREFIX,..."; BENCH_TICKETS a file of
-- "slug PREFIX number" lines (run.sh writes the open tickets there);
-- BENCH_TOKEN, when set, is sent as the bearer token.  At the end one line
-- "BENCH_RESULT {json}" gives the figures run.sh keeps (latencies in
-- microseconds).

local mode = os.getenv("BENCH_MODE") or "floor"
local token = os.getenv("BENCH_TOKEN")
local max_number = tonumber(os.getenv("BENCH_MAX_NUMBER") or "1")

local targets = {}
for slug, prefix in string.gmatch(os.getenv("BENCH_TARGETS") or "", "([%w-]+):(%w+)") do
    targets[#targets + 1] = { slug = slug, prefix = prefix }
end

local tickets = {}
local tickets_file = os.getenv("BENCH_TICKETS")
if tickets_file and tickets_file ~= "" then
    for line in io.lines(tickets_file) do
        local slug, prefix, number = string.match(line, "^(%S+)%s+(%S+)%s+(%d+)")
        if slug then
            tickets[#tickets + 1] = "/v1/tenants/" .. slug .. "/tickets/" .. prefix .. "-" .. number
        end
    end
end

if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
end

local post_body = '{"title":"Printer offline on floor 2","description":"Opened by the benchmark.",'
    .. '"impact":"low","urgency":"medium","category":"printing"}'
local comment_body = '{"body":"Checked the print server; the spooler restarts cleanly now.",'
    .. '"visibility":"public"}'
local escalation_body = '{"kind":"hierarchical","to":"provider:lead","note":{'
    .. '"summary":"The client asks for a call about this ticket",'
    .. '"tried":"Explained the workaround; the fix needs a change window",'
    .. '"next_action":"Agree on a change window with the client"}}'

local time_body = '{"minutes":15,"note":"Checked the spooler with the user.","billable":true}'

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

local function ticket()
    return tickets[math.random(#tickets)]
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
                          .. math.random(max_number) .. "/events?limit=50")
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
elseif mode == "patch" then
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["If-Match"] = "*"
    function request()
        return wrk.format("PATCH", ticket(), nil,
                          '{"description":"Updated by the benchmark, round ' .. math.random(1000000)
                          .. '."}')
    end
elseif mode == "comment" then
    wrk.headers["Content-Type"] = "application/json"
    function request()
        return wrk.format("POST", ticket() .. "/comments", nil, comment_body)
    end
elseif mode == "time" then
    wrk.headers["Content-Type"] = "application/json"
    function request()
        return wrk.format("POST", ticket() .. "/time-entries", nil, time_body)
    end
elseif mode == "escalate" then
    wrk.headers["Content-Type"] = "application/json"
    function request()
        return wrk.format("POST", ticket() .. "/escalations", nil, escalation_body)
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
