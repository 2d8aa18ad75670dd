-- PUT a body of N bytes to presigned URLs read from a file, one per line.
-- wrk ... -s put.lua URL -- URL_FILE BODY_BYTES THREADS
-- Each wrk thread takes every THREADS-th line, so no two threads write the same key; a thread
-- that has used all its lines starts again (an overwrite), which bench/run.py detects and reports.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")

local counter = 0
function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
end

local paths = {}
local body
local headers = {}
local idx = 0

function init(args)
   local file, size, nthreads = args[1], tonumber(args[2]), tonumber(args[3])
   local n = 0
   for line in io.lines(file) do
      if n % nthreads == tid then
         paths[#paths + 1] = line
      end
      n = n + 1
   end
   body = string.rep("x", size)
   headers["Host"] = wrk.headers["Host"]
   headers["Content-Type"] = "application/octet-stream"
end

function request()
   idx = idx + 1
   if idx > #paths then idx = 1 end
   return wrk.format("PUT", paths[idx], headers, body)
end
