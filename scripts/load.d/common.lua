-- Shared by the wrk scripts of scripts/load. wrk runs one Lua state per
-- thread: counts are kept per thread and summed in done() through the
-- thread objects that setup() collects.
local common = {}
local threads = {}
local ok, refused, failed = 0, 0, 0

function common.lines(path)
  local list = {}
  for line in io.lines(path) do
    if line ~= "" then list[#list + 1] = line end
  end
  assert(#list > 0, path .. " is empty")
  return list
end

function common.setup(thread)
  thread:set("number", #threads + 1)
  threads[#threads + 1] = thread
end

function common.init()
  -- Different random choices in every thread and every run.
  math.randomseed(os.time() * 1000 + (number or 0) * 7919 + math.floor(os.clock() * 1e6))
end

function common.response(status, headers, body)
  if status < 300 then
    ok = ok + 1
  elseif status == 409 then
    refused = refused + 1
  else
    failed = failed + 1
  end
  -- Globals are what thread:get reads in done().
  load_ok, load_refused, load_failed = ok, refused, failed
end

function common.done(summary, latency, requests)
  local sum = { ok = 0, refused = 0, failed = 0 }
  for _, thread in ipairs(threads) do
    sum.ok = sum.ok + (thread:get("load_ok") or 0)
    sum.refused = sum.refused + (thread:get("load_refused") or 0)
    sum.failed = sum.failed + (thread:get("load_failed") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'LOAD {"requests":%d,"duration_us":%d,"ok":%d,"refused":%d,"failed":%d,' ..
    '"socket_errors":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, sum.ok, sum.refused, sum.failed,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end

return common
