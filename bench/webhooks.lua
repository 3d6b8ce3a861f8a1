-- wrk script for bench/webhooks.py: each wrk thread sends its share of pre-signed deliveries once.
-- Arguments (after --): <threads> <file> <path> <done-file prefix>. Each line of <file>: id TAB timestamp TAB signature TAB body.
-- A thread stops once each of its deliveries is answered and writes <prefix><thread>, so that the
-- bench interrupts wrk then (wrk itself always runs its whole -d); done() prints one JSON line of
-- counts and latencies (µs). Past its last delivery, while other connections wait for answers, a thread asks
-- GET /healthz, which stores nothing and is told apart by its body.
local started = 0
function setup(thread)
  thread:set("tid", started)
  started = started + 1
end

function init(args)
  local threads, share = tonumber(args[1]), {}
  local index = 0
  for line in io.lines(args[2]) do
    if index % threads == tid then
      local id, ts, signature, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      share[#share + 1] = wrk.format("POST", args[3], {
        ["Content-Type"] = "application/json",
        ["webhook-id"] = id,
        ["webhook-timestamp"] = ts,
        ["webhook-signature"] = signature,
      }, body)
    end
    index = index + 1
  end
  deliveries, sent, answered, finished = share, 0, 0, args[4]
  idle = wrk.format("GET", "/healthz")
  -- wrk calls thread 0's request() once before sending anything, to check what it returns
  verifying = tid == 0
end

function request()
  if verifying then
    verifying = false
    return deliveries[1]
  end
  if sent == #deliveries then return idle end
  sent = sent + 1
  return deliveries[sent]
end

function response(status, headers, body)
  if body:find('"received"', 1, true) then answered = answered + 1 end
  if answered == #deliveries then
    local marker = io.open(finished .. tid, "w")
    marker:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
