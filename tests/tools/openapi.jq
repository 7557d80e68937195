# openapi.jq: the integration tests' OpenAPI 3.0 checks, in jq (a Debian package,
# nothing from the internet). Each def prints one line per problem; none = valid.
#   jq -r -L tests/tools 'include "openapi"; lint' deploy/www/openapi.json
#   jq -r -L tests/tools --arg method get --arg path /labels --arg status 200 \
#      --arg ctype "$ctype" --rawfile headers H --rawfile body B \
#      'include "openapi"; check_response' deploy/www/openapi.json

def methods: ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

# A local reference "#/a/b" followed (repeatedly) against the document $root.
def deref($root):
  if type == "object" and has("$ref") then
    .["$ref"] as $r
    | if ($r | startswith("#/")) then
        ($root | getpath($r | ltrimstr("#/") | split("/") | map(gsub("~1"; "/") | gsub("~0"; "~"))))
        | if . == null then error("unresolved $ref \($r)") else deref($root) end
      else error("non-local $ref \($r)") end
  else . end;

# ---- the document itself ----

def lint:
  . as $root
  | (if (.openapi | type) == "string" and (.openapi | test("^3\\.0\\.[0-9]+$")) then empty
     else "openapi: \(.openapi | tojson) is not 3.0.x" end),
    (if (.info.title | type) == "string" and (.info.version | type) == "string" then empty
     else "info: title and version must be strings" end),
    (if (.paths | type) == "object" and (.paths | length) > 0 then empty else "paths: none" end),
    ( [paths(type == "object" and has("$ref"))] as $refs
      | $refs[] as $p
      | ($root | getpath($p)) as $node
      | ($node | try (deref($root) | empty) catch "\($p | map(tostring) | join(".")): \(.)") ),
    ( .paths | to_entries[] | .key as $path
      | (if ($path | startswith("/")) then empty else "path \($path) does not start with /" end),
        ( .value | to_entries[] | select(.key as $k | methods | index($k)) | .key as $m | .value as $op
          | "\($m | ascii_upcase) \($path)" as $where
          | (if ($op.responses | type) == "object" and ($op.responses | length) > 0 then empty
             else "\($where): no responses" end),
            ( ($op.responses // {}) | to_entries[]
              | (if (.key | test("^([1-5][0-9][0-9]|[1-5]XX|default)$")) then empty
                 else "\($where): response key \(.key) is not a status" end),
                ((.value | try deref($root) catch {}) as $r
                 | if ($r.description | type) == "string" then empty
                   else "\($where) \(.key): no description" end) ),
            ( ($op.security // [])[] | keys[] as $scheme
              | select(($root.components.securitySchemes // {}) | has($scheme) | not)
              | "\($where): unknown security scheme \($scheme)" ),
            (if $op.requestBody then
               (($op.requestBody | try deref($root) catch {}) | if (.content | type) == "object" then empty
                else "\($where): requestBody without content" end)
             else empty end) ) ),
    ( [.paths[][] | objects | .operationId // empty] | group_by(.)[] | select(length > 1)
      | "operationId \(.[0]) used \(length) times" );

# ---- a response against the document ----

def type_ok($t):
  if $t == "integer" then type == "number" and . == floor
  elif $t == "number" then type == "number"
  else type == $t end;

# Problems of the value . against schema $s (the subset used: $ref, type,
# nullable, enum, required, properties, additionalProperties, items).
def problems($s; $root; $at):
  ($s | deref($root)) as $s
  | if . == null and ($s.nullable // false) then empty
    elif $s.type != null and (type_ok($s.type) | not) then "\($at): \(type) where \($s.type) is documented"
    elif $s.enum != null and (. as $v | $s.enum | any(. == $v) | not) then
      "\($at): \(tojson) is not one of \($s.enum | tojson)"
    elif type == "object" then
      (($s.required // [])[] as $k | if has($k) then empty else "\($at): required \($k) missing" end),
      (to_entries[] as $e
       | if ($s.properties // {}) | has($e.key) then $e.value | problems($s.properties[$e.key]; $root; "\($at).\($e.key)")
         elif $s.additionalProperties == false then "\($at): \($e.key) is not documented"
         else empty end)
    elif type == "array" and $s.items != null then
      (to_entries[] as $e | $e.value | problems($s.items; $root; "\($at)[\($e.key)]"))
    else empty end;

# The header names of a raw response head ("Name: value" lines), lower-cased.
def header_names: [$headers | split("\n")[] | capture("^(?<n>[A-Za-z0-9-]+):") | .n | ascii_downcase];

def check_response:
  . as $root
  | "\($method | ascii_upcase) \($path) \($status)" as $where
  | (.paths[$path][$method]) as $op
  | if $op == null then "\($where): no such operation documented"
    elif ($op.responses | has($status) | not) then
      "\($where): status not documented (documented: \($op.responses | keys | join(", ")))"
    else
      ($op.responses[$status] | deref($root)) as $resp
      | header_names as $have
      | ( ($resp.headers // {}) | to_entries[]
          | select(.value | deref($root) | .required == true)
          | select(.key | ascii_downcase | IN($have[]) | not)
          | "\($where): documented header \(.key) missing" ),
        ( if $resp.content == null then
            (if ($body | length) == 0 then empty else "\($where): a body where none is documented" end)
          else
            ($ctype | split(";")[0] | gsub(" "; "")) as $media
            | if ($resp.content | has($media) | not) then
                "\($where): content type \($ctype) not documented (\($resp.content | keys | join(", ")))"
              elif $media == "application/json" then
                ($body | try fromjson catch null) as $v
                | if $v == null then "\($where): body is not JSON: \($body[0:80])"
                  else $v | problems($resp.content[$media].schema; $root; "body") | "\($where): \(.)" end
              else
                (if $resp.content[$media].schema.type == "string" then empty
                 else "\($where): cannot check \($media) bodies" end)
              end
          end )
    end;
