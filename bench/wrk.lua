-- wrk script for the benchmark.
-- args: <requests file>
-- The requests file has one request per line: METHOD<TAB>PATH<TAB>BODY.
-- Each thread cycles through the requests from a random start, and counts
-- the responses by status.  done() prints one JSON line.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local reqs, n, i = {}, 0, 0
statuses = {}  -- global: done() reads it from each thread

function init(args)
  local headers = {["Content-Type"] = "application/json"}
  for line in io.lines(args[1]) do
    local method, path, body = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
    if method then
      if body == "" then body = nil end
      n = n + 1
      reqs[n] = wrk.format(method, path, body and headers or nil, body)
    end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  i = math.random(n)
end

function request()
  i = i % n + 1
  return reqs[i]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses") or {}) do
      counts[code] = (counts[code] or 0) + count
    end
  end
  local parts = {}
  for code, count in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', code, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50": %d, "p90": %d, ' ..
    '"p99": %d, "max": %d, "status": {%s}, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(parts, ", "), e.connect, e.read, e.write, e.timeout))
end
