-- The opening minute: every connection submits prepared drafts, one child after another.
--
--   wrk -t T -c C -d D -s bench/wrk/register.lua URL -- TARGETS ACKDIR T [RESEND C/T [NOWAIT]]
--
-- TARGETS: one child a line, "token<TAB>child_id". Thread i takes the lines i, i+T, i+2T, …
-- (its own slice). Each request: POST /api/v1/drafts/{child}/submit with the parent's bearer
-- token, the child's Idempotency-Key (made at its first send, the same for every resend, as a
-- real client keeps it) and an X-Request-Id the app echoes, so an answer can be matched to its
-- child: a 503 (overload, Retry-After) puts the child back at the end of the queue, as a real
-- client retries later; a 201 appends "application_id<TAB>child" to ACKDIR/acks-<i>.txt
-- (line-buffered, so a killed run keeps what it had). When a thread's children are done it
-- stops, and says so in ACKDIR/drained-<i>: once every thread has, the bench interrupts wrk
-- (SIGINT), whose summary then counts the time the children took, not the -d it was given
-- (bench/flash_crowd.py's run_wrk). done() prints one line "JSON {...}".
--
-- RESEND (seconds, 0 or absent: off): wrk gives a script no hook for a socket error, so a
-- request lost with its connection (the app's workers killed) takes its child with it. With
-- RESEND, a child unanswered for RESEND seconds (1 s granularity) goes back in the queue with
-- its key (a registration it made is replayed, not made twice), and a thread whose queue is
-- empty waits for its children in flight instead of stopping: the kill -9 run goes on through
-- the workers' respawn instead of spending its children on the dead ones in a second. C/T, the
-- thread's connections: more children unanswered than it has connections means requests are
-- being lost, and the thread then sends health probes instead of children until the lost ones
-- are resent, as a client stops sending into a connection that keeps failing.
--
-- NOWAIT (1: on): clients that ignore Retry-After and send again at once (a broken app, an
-- attack; the overload's flood was such until session 26, ADR 0057).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

queue, head, tail = {}, 1, 0
statuses, unmatched, idle, resent, waits = {}, 0, 0, 0, 0
local pending, seq, acks, ackdir, drained = {}, 0, nil, nil, false
local resend, sent, last_scan, connections, in_flight, nowait = 0, {}, 0, 0, 0, false

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
  resend = tonumber(args[4] or "0") or 0
  connections = tonumber(args[5] or "0") or 0
  nowait = args[6] == "1"
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

-- What each answered connection waits before its next request, in the order of the answers:
-- wrk asks delay() once for each connection whose answer came, in that order, before its next
-- request, and tells the script nothing of which connection it is. One wait pushed per answer
-- (a 503's Retry-After, else none) and one taken per delay() gives each connection its own.
-- Until session 26 one variable held the last 503's wait and the next delay() took it: when
-- many answers came in one turn of wrk's event loop (a fast server, the overload's 1,024
-- connections) only one of their connections waited, and the rest came straight back
-- (nginx answering every request 503 with Retry-After: 1, four seconds: 146,231 requests
-- from 1,024 connections, against ~4,100 with a wait each).
local due, due_head, due_tail = {}, 1, 0

local function due_push(ms)
  due_tail = due_tail + 1
  due[due_tail] = ms
end

local function due_take()
  if due_head > due_tail then return 0 end
  local ms = due[due_head]
  due[due_head] = nil
  due_head = due_head + 1
  return ms
end

local function waiting()
  return resend > 0 and head > tail and next(pending) ~= nil
end

local function losing()
  return resend > 0 and in_flight > connections + 1 -- + wrk's check request, never sent
end

function delay()
  local wait = due_take()
  if waiting() then
    wait = math.max(wait, 200) -- children in flight: look again in a fifth of a second
  elseif losing() then
    wait = math.max(wait, 100) -- requests lost with their connections: back off
  end
  return wait
end

-- RESEND: the children unanswered for RESEND seconds back in the queue (once a second).
local function requeue_stale()
  local now = os.time()
  if now == last_scan then return end
  last_scan = now
  for rid, at in pairs(sent) do
    if now - at >= resend then
      local item = pending[rid]
      pending[rid], sent[rid] = nil, nil
      in_flight = in_flight - 1
      if item then
        tail = tail + 1
        queue[tail] = item
        resent = resent + 1
      end
    end
  end
end

function request()
  if resend > 0 then requeue_stale() end
  if waiting() or losing() then
    waits = waits + 1
    return wrk.format("GET", "/healthz")
  end
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
  if resend > 0 then
    sent[rid] = os.time()
    in_flight = in_flight + 1
  end
  item[3] = item[3] or uuid4()
  return wrk.format("POST", "/api/v1/drafts/" .. item[2] .. "/submit", {
    ["Authorization"] = "Bearer " .. item[1],
    ["Idempotency-Key"] = item[3],
    ["X-Request-Id"] = rid,
    ["Content-Length"] = "0",
  })
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local rid = headers["X-Request-Id"] or headers["x-request-id"]
  local item = rid and pending[rid]
  if rid and sent[rid] then in_flight = in_flight - 1 end
  if rid then pending[rid], sent[rid] = nil, nil end
  if status ~= 503 then
    due_push(0)
  end
  if status == 201 then
    local app = body:match('"id"%s*:%s*"([^"]+)"')
    acks:write((app or "?") .. "\t" .. (item and item[2] or "?") .. "\n")
  elseif status == 503 then
    -- a client does what the server asks: this connection waits Retry-After seconds (the
    -- server jitters it) before its next request
    local after = tonumber(headers["Retry-After"] or headers["retry-after"] or "1") or 1
    due_push(nowait and 0 or after * 1000)
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
  local total, left, lost_match, idles, resends, waited = {}, 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do
      total[tostring(status)] = (total[tostring(status)] or 0) + n
    end
    left = left + (t:get("tail") - t:get("head") + 1)
    lost_match = lost_match + t:get("unmatched")
    idles = idles + t:get("idle")
    resends = resends + t:get("resent")
    waited = waited + t:get("waits")
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
    resent = resends,
    wait_requests = waited,
    latency_us = {
      p50 = latency:percentile(50.0),
      p95 = latency:percentile(95.0),
      p99 = latency:percentile(99.0),
      max = latency.max,
      mean = latency.mean,
    },
  }), "\n")
end
