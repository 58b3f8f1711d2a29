-- One fixed request, every answer checked (see common.lua).
-- wrk -s check.lua URL -- METHOD MARKER BODY [HEADER...]
--   METHOD  GET or POST;  MARKER  a substring every good answer contains
--   BODY    a form body (Content-Type application/x-www-form-urlencoded), or "-" for none
--   HEADER  "Name: value", as many as needed
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local req, marker

function init(args)
  local method, body = args[1], args[3]
  marker = args[2]
  local headers = {}
  if body == "-" then
    body = nil
  else
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  for i = 4, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  req = wrk.format(method, nil, headers, body)
end

function request()
  return req
end

function response(status, headers, body)
  check(status, body, marker)
end
