-- Requests spread over many users, for wrk (https://github.com/wg/wrk).
--
--   wrk -s bench/wrk/rotate.lua URL -- USERS_FILE MODE [METHOD BODY_FILE]
--
-- USERS_FILE has one "user_id access_token" per line. MODE "jwt" sends
-- `Authorization: Bearer <token>` (Cashman), MODE "floor" sends `X-Bench-User: <id>` (the floor
-- views). Each thread starts at a different user and takes the next one on every request.
-- done() prints one line, "BENCH_JSON {...}": requests, req/s, latency percentiles, errors.

local users = {}
local mode, method, body
local position = 0
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local id, token = line:match("^(%d+)%s+(%S+)")
    if id then table.insert(users, { id = id, token = token }) end
  end
  mode = args[2] or "jwt"
  method = args[3] or "GET"
  if args[4] then
    local file = assert(io.open(args[4], "rb"))
    body = file:read("*a")
    file:close()
  end
  position = (thread_index or 0) * 7919 % #users
end

function request()
  position = position % #users + 1
  local user = users[position]
  local headers = {}
  if mode == "floor" then
    headers["X-Bench-User"] = user.id
  else
    headers["Authorization"] = "Bearer " .. user.token
  end
  if body then headers["Content-Type"] = "application/json" end
  return wrk.format(method, nil, headers, body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.3f, "rps": %.2f, "p50_ms": %.3f, "p90_ms": %.3f, ' ..
    '"p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
