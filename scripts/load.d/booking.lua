-- wrk script for scripts/load: each request books a random slot as a random
-- student (POST /api/v1/slots/{id}/bookings). Reads the seeded tokens and
-- slot ids from LOAD_DIR. Counts answers by status so that the harness can
-- tell bookings made (201) from seats refused (409: full, already booked)
-- and from errors; prints one JSON line for it at the end.
local common = dofile(os.getenv("LOAD_DIR") .. "/common.lua")

local tokens = common.lines(os.getenv("LOAD_DIR") .. "/students.txt")
local slots = common.lines(os.getenv("LOAD_DIR") .. "/slots.txt")

setup = common.setup

function init(args)
  common.init()
end

function request()
  local slot = slots[math.random(#slots)]
  local token = tokens[math.random(#tokens)]
  return wrk.format("POST", "/api/v1/slots/" .. slot .. "/bookings",
    { ["Authorization"] = "Bearer " .. token }, "")
end

response = common.response
done = common.done
