-- Prints wrk's summary as one JSON line at the end of a run (no per-request hooks, so it adds
-- no cost while the run is going). Latencies are in microseconds.
--
-- WRK_POST_BYTES=N makes every request a POST with an N-byte JSON body (an API call's write).

local post_bytes = tonumber(os.getenv("WRK_POST_BYTES") or "")
if post_bytes then
  wrk.method = "POST"
  wrk.body = '{"data":"' .. string.rep("x", post_bytes - 11) .. '"}'
  wrk.headers["Content-Type"] = "application/json"
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"err_connect": %d, "err_read": %d, "err_write": %d, "err_status": %d, "err_timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
