-- Shared by the benchmark's wrk scripts: every answer is checked, and done() prints one
-- parsable line. An answer counts as an error when its status is not 2xx ("status") or its
-- body lacks the marker the script expects ("malformed"); wrk's own socket errors (connect,
-- read, write, timeout) are added by the driver. Each wrk thread runs its own copy of the
-- script, so the counters are per thread: setup() keeps the threads and done() sums them.

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

bad_status, malformed = 0, 0

-- Counts `status` and `body` against `marker` (a plain substring); true when both are fine.
function check(status, body, marker)
  if status < 200 or status > 299 then
    bad_status = bad_status + 1
    return false
  end
  if not body or not string.find(body, marker, 1, true) then
    malformed = malformed + 1
    return false
  end
  return true
end

function done(summary, latency, requests)
  local bad, wrong = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("bad_status")
    wrong = wrong + t:get("malformed")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH {\"requests\": %d, \"duration_s\": %.6f, \"rps\": %.3f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
      .. "\"bad_status\": %d, \"malformed\": %d, \"socket_errors\": %d, "
      .. "\"socket\": {\"connect\": %d, \"read\": %d, \"write\": %d, \"timeout\": %d}}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    bad, wrong, e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout))
end
