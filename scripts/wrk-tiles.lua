-- wrk script for scripts/bench: each thread cycles through the request paths listed
-- (one per line) in the file given after `--`, asking for gzip like a browser does.
local paths = {}
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  -- Threads start at different offsets so they do not walk in step.
  counter = math.random(#paths)
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter], { ["Accept-Encoding"] = "gzip" })
end
