-- Refresh-token rotation: each refresh token may be used once (a reuse revokes its family), so
-- every thread keeps a queue of unused tokens; request() takes one and response() puts the
-- rotated one back. The tokens come one per line from the file $BENCH_REFRESH_TOKENS, dealt
-- round-robin to the $BENCH_THREADS threads; each thread needs at least as many as it has
-- connections. A request that finds its queue empty sends a spent token (and counts as the
-- error it gets).
-- wrk -s refresh.lua URL -- CLIENT_ID CLIENT_SECRET
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local queue, head, tail, prefix = {}, 1, 0, ""

function init(args)
  prefix = "grant_type=refresh_token&client_id=" .. args[1] .. "&client_secret=" .. args[2] .. "&refresh_token="
  local n, i = tonumber(os.getenv("BENCH_THREADS")), 0
  for line in io.lines(os.getenv("BENCH_REFRESH_TOKENS")) do
    if line ~= "" then
      if i % n == index then
        tail = tail + 1
        queue[tail] = line
      end
      i = i + 1
    end
  end
end

local spent = "yrt_none"

function request()
  local token = spent
  if head <= tail then
    token = queue[head]
    queue[head] = nil
    head = head + 1
  end
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"}, prefix .. token)
end

function response(status, headers, body)
  if check(status, body, "\"access_token\":\"") then
    local token = body:match("\"refresh_token\":\"([^\"]+)\"")
    if token then
      tail = tail + 1
      queue[tail] = token
    else
      malformed = malformed + 1
    end
  end
end
