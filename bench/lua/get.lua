-- GET the URL given on the wrk command line, over and over (no per-request Lua work).
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "report.lua")
