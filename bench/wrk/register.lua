-- The opening minute: every connection submits prepared drafts, one child after another.
--
--   wrk -t T -c C -d D -s bench/wrk/register.lua URL -- TARGETS ACKDIR T
--
-- TARGETS: one child a line, "token<TAB>child_id". Thread i takes the lines i, i+T, i+2T, …
-- (its own slice). Each request: POST /api/v1/drafts/{child}/submit with the parent's bearer
-- token, a fresh Idempotency-Key and an X-Request-Id the app echoes, so an answer can be
-- matched to its child: a 503 (overload, Retry-After) puts the child back at the end of the
-- queue, as a real client retries later; a 201 appends "application_id<TAB>child" to
-- ACKDIR/acks-<i>.txt (line-buffered, so a killed run keeps what it had). When a thread's
-- children are done it stops, and says so in ACKDIR/drained-<i>: once every thread has, the
-- bench interrupts wrk (SIGINT), whose summary then counts the time the children took, not
-- the -d it was given (bench/flash_crowd.py's run_wrk). done() prints one line "JSON {...}".

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

queue, head, tail = {}, 1, 0
statuses, unmatched, idle = {}, 0, 0
local pending, seq, acks, ackdir, drained = {}, 0, nil, nil, false

local function hex(n)
  local out = {}
  for i = 1, n do out[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(out)
end

local function uuid4()
  return hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-" ..
    string.format("%x", math.random(8, 11)) .. hex(3) .. "-" .. hex(12)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[3])
  ackdir = args[2]
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == id then
      local token, child = line:match("^(%S+)\t(%S+)")
      if token then
        tail = tail + 1
        queue[tail] = { token, child }
      end
    end
    i = i + 1
  end
  acks = io.open(ackdir .. "/acks-" .. id .. ".txt", "w")
  acks:setvbuf("line")
  math.randomseed(os.time() * 1000 + id * 7919)
end

pause = 0

function delay()
  local wait = pause
  pause = 0
  return wait
end

function request()
  if head > tail then
    idle = idle + 1
    if not drained then
      drained = true
      local mark = io.open(ackdir .. "/drained-" .. id, "w")
      mark:close()
    end
    wrk.thread:stop()
    return wrk.format("GET", "/healthz")
  end
  local item = queue[head]
  queue[head] = nil
  head = head + 1
  seq = seq + 1
  local rid = "b" .. id .. "-" .. seq
  pending[rid] = item
  return wrk.format("POST", "/api/v1/drafts/" .. item[2] .. "/submit", {
    ["Authorization"] = "Bearer " .. item[1],
    ["Idempotency-Key"] = uuid4(),
    ["X-Request-Id"] = rid,
    ["Content-Length"] = "0",
  })
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local rid = headers["X-Request-Id"] or headers["x-request-id"]
  local item = rid and pending[rid]
  if rid then pending[rid] = nil end
  if status == 201 then
    local app = body:match('"id"%s*:%s*"([^"]+)"')
    acks:write((app or "?") .. "\t" .. (item and item[2] or "?") .. "\n")
  elseif status == 503 then
    -- a client does what the server asks: this connection waits Retry-After seconds (the
    -- server jitters it) before its next request
    local after = tonumber(headers["Retry-After"] or headers["retry-after"] or "1") or 1
    pause = after * 1000
    if item then
      tail = tail + 1
      queue[tail] = item
    else
      unmatched = unmatched + 1
    end
  end
end

local function json(value)
  if type(value) == "table" then
    local parts = {}
    for k, v in pairs(value) do
      parts[#parts + 1] = string.format("%q:%s", tostring(k), json(v))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(value) == "number" then
    return string.format("%.17g", value)
  end
  return string.format("%q", tostring(value))
end

function done(summary, latency, requests)
  local total, left, lost_match, idles = {}, 0, 0, 0
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do
      total[tostring(status)] = (total[tostring(status)] or 0) + n
    end
    left = left + (t:get("tail") - t:get("head") + 1)
    lost_match = lost_match + t:get("unmatched")
    idles = idles + t:get("idle")
  end
  io.write("JSON ", json({
    requests = summary.requests,
    duration_us = summary.duration,
    bytes = summary.bytes,
    errors = summary.errors,
    statuses = total,
    children_left = left,
    unmatched_503 = lost_match,
    idle_requests = idles,
    latency_us = {
      p50 = latency:percentile(50.0),
      p95 = latency:percentile(95.0),
      p99 = latency:percentile(99.0),
      max = latency.max,
      mean = latency.mean,
    },
  }), "\n")
end
