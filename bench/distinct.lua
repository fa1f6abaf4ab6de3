-- wrk script: POST /speech with a distinct ~80-character text each request (no cache hits).
-- The run's prefix comes from the environment so that runs never repeat each other's texts.
local prefix = os.getenv("SAYFILE_BENCH_PREFIX") or "0"
local counter = 0

request = function()
  counter = counter + 1
  local body = string.format(
    '{"text": "Order %s-%d is ready for pickup at the front desk; thank you for waiting, friend.", "voice": "espeak:en-us", "format": "mp3"}',
    prefix, counter)
  return wrk.format("POST", "/speech", {["Content-Type"] = "application/json"}, body)
end

local failures = 0
response = function(status, headers, body)
  if status ~= 200 then failures = failures + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.6f %d %d %d\n", summary.requests, summary.duration,
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    summary.errors.status + failures))
end
