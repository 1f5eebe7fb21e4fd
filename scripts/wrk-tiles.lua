-- wrk script for scripts/bench: each thread cycles through the request paths listed
-- (one per line) in the file given after `--`, asking for gzip like a browser does,
-- with the Bearer token given after the file, if any.
local paths = {}
local counter = 0
local headers = { ["Accept-Encoding"] = "gzip" }

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  if args[2] and #args[2] > 0 then
    headers["Authorization"] = "Bearer " .. args[2]
  end
  -- Threads start at different offsets so they do not walk in step.
  counter = math.random(#paths)
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter], headers)
end
