-- wrk script for scripts/load: anonymous browse of one day
-- (GET /api/v1/slots?date=...&limit=100, the path given to wrk). Counts
-- answers by status like booking.lua.
local common = dofile(os.getenv("LOAD_DIR") .. "/common.lua")

setup = common.setup

function init(args)
  common.init()
end

response = common.response
done = common.done
