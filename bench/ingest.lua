-- POST pre-signed Stripe deliveries, each exactly once, split across wrk's threads.
-- Usage: wrk -t T -c C -d D -s bench/ingest.lua URL -- deliveries.tsv T
-- deliveries.tsv: one delivery a line, "<Stripe-Signature>\t<JSON body>".
-- A thread that runs out starts again from its first delivery (duplicates, answered 200 without
-- touching the ledger); done() prints how many were sent again, so the caller can refuse the run.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local count = tonumber(args[2])
  deliveries = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % count == id then
      local tab = line:find("\t", 1, true)
      deliveries[#deliveries + 1] = wrk.format("POST", wrk.path, {
        ["Content-Type"] = "application/json; charset=utf-8",
        ["Stripe-Signature"] = line:sub(1, tab - 1),
      }, line:sub(tab + 1))
    end
    i = i + 1
  end
  sent = 0
  again = 0
end

function request()
  sent = sent + 1
  if sent > #deliveries then
    again = again + 1
  end
  return deliveries[(sent - 1) % #deliveries + 1]
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("again")
  end
  io.write(string.format("SENT_AGAIN %d\n", total))
end
