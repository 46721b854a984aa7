// Package taskhttp serves taskcreate over HTTP: the endpoint
// POST /api/data-platform/workflow-actions/task-create, reproduced exactly,
// the sweep endpoint POST /api/data-platform/workflow-actions/task-sweep,
// and the wire types and functions to rebuild them on any router.
//
// NewHandler returns a net/http Handler that authenticates the caller with a
// static bearer token, decodes the JSON body strictly, calls
// Service.CreateTasks and writes the result. It serves whatever path it is
// mounted on; Path is the canonical one. OpenAPI returns the OpenAPI 3
// document of both endpoints, for a server to publish and a client to
// generate code from.
//
// # Request
//
//	POST /api/data-platform/workflow-actions/task-create
//	Authorization: Bearer <token>
//	Content-Type: application/json
//
//	{"organizationId": "550e8400-e29b-41d4-a716-446655440001",
//	 "workflowRunId": "workflow-run-uuid-abc123",
//	 "domains": ["restock"],
//	 "minConfidence": 0.6,
//	 "perimeter": [{"variantId": "variant-uuid-1", "shopId": "shop-uuid-1"}]}
//
// Every field above is required; null counts as missing, and a minConfidence
// of 0 is a value (it disables filtering). Three booleans are optional
// (absent or null is false): "dryRun", "returnOutcomes" and "retireStale",
// the options of taskcreate.Request. Field names match exactly. Unknown
// fields, duplicate fields, values of the wrong JSON type, strings that are
// not valid UTF-8 (raw bytes, or a \u escape of a lone surrogate: different
// bytes must not become the same id), a body that is not one JSON object,
// and data after the object are all rejected. The rules on the values
// themselves are taskcreate's.
//
// A request over the service's Limits is refused while it is read: a
// perimeter of more than MaxPerimeter pairs at the pair past the bound, and
// a returnOutcomes:true that comes before the perimeter once the unique
// pairs read times the unique domains (1 until they are read) pass
// MaxOutcomes. The answer is the 400 CreateTasks would give, the counts in
// its message being those read so far, and the rest of the body is left
// unread: net/http closes the connection on it. The order of the fields
// never changes whether a request is refused, only how early: send
// returnOutcomes and domains before the perimeter, as RequestBody does.
//
// NewSweepHandler serves Service.SweepRun the same way, at SweepPath, with
// the body {"organizationId", "workflowRunId", "dryRun"?} and the answer
// {"success": true, "data": {"dismissed": 2, "successCode":
// "WORKFLOW_TASKS_SWEPT", "workflowRunId": "..."}} ("WORKFLOW_TASKS_PREVIEWED"
// for a dry run).
//
// # Response
//
// Every response is a JSON envelope with Content-Type application/json and
// Cache-Control no-store. Success (200):
//
//	{"success": true,
//	 "data": {"created": 2, "updated": 0, "suppressed": 0, "skipped": 0, "unmatched": 0,
//	          "successCode": "WORKFLOW_TASKS_CREATED", "workflowRunId": "workflow-run-uuid-abc123"}}
//
// "successCode" is "WORKFLOW_TASKS_PREVIEWED" for a dry run. "retired" is
// there when the request asked for retireStale, and "outcomes" when it
// asked for returnOutcomes:
//
//	"outcomes": [{"domain": "restock", "shopId": "shop-uuid-1", "variantId": "variant-uuid-1",
//	              "outcome": "created", "taskId": "0190f3a2-..."},
//	             {"domain": "restock", "shopId": "shop-uuid-2", "variantId": "variant-uuid-2",
//	              "outcome": "skipped", "taskId": "0190f3a1-...", "retired": true}]
//
// Failure:
//
//	{"success": false, "error": "<message for people>", "errorCode": "<CODE>",
//	 "fieldErrors": [{"field": "perimeter[3].shopId", "code": "MISSING_REQUIRED_FIELD", "message": "is required"}]}
//
// Clients branch on errorCode and the fieldErrors' codes, never on messages.
// A fieldError's field is a JSON path into the body ("minConfidence",
// "domains[1]", "perimeter[3].shopId"); the empty path is the body as a
// whole, as in JSON Pointer.
//
//	status  errorCode                 when
//	400     MISSING_REQUIRED_FIELD    every problem is a missing (or null) required field
//	400     VALIDATION_ERROR          any other problem with the body: bad JSON, wrong type, unknown field,
//	                                  invalid UTF-8, bad value
//	401     UNAUTHORIZED              the bearer token is missing, malformed or wrong (WWW-Authenticate: Bearer);
//	                                  the body is not read
//	404     NOT_FOUND                 no endpoint at this path (ErrNotFound, for a router's fallback)
//	405     METHOD_NOT_ALLOWED        the method is not POST (Allow: POST)
//	408     REQUEST_TIMEOUT           the body stopped arriving: its read timed out, as under
//	                                  http.Server's ReadTimeout (Connection: close)
//	409     RETIRE_BUDGET_EXCEEDED    a retireStale call would retire more open tasks than its budget
//	                                  allows (the "retire" member says how many); nothing was written
//	413     PAYLOAD_TOO_LARGE         the body is larger than Options.MaxBodyBytes
//	415     UNSUPPORTED_MEDIA_TYPE    the request has no Content-Type, more than one, or one that is not
//	                                  application/json
//	429     TOO_MANY_REQUESTS         Options.MaxConcurrentCalls calls are already running, or the request's
//	                                  bytes do not fit in what the requests in flight leave of
//	                                  Options.MaxInFlightBytes (Retry-After: 1); the body is not read, or,
//	                                  without a Content-Length, not past the bound
//	500     DATABASE_ERROR            the store failed; the message never carries the store's own words
//	500     OUTCOME_UNKNOWN           the connection to the store was lost while committing: tasks may have
//	                                  been written; repeating the same request is safe
//	503     REQUEST_CANCELLED         the request's context was cancelled
//	503     STORE_BUSY                the store stayed busy (lock contention, SQLITE_BUSY, too many
//	                                  connections) through every retry (Retry-After: 1)
//	504     TIMEOUT                   the request's context deadline (or Options.Timeout) passed
//
// On any error but OUTCOME_UNKNOWN no task was written or changed, so a 408,
// 429 or 503 may be retried as is. After OUTCOME_UNKNOWN, repeat the same
// request: it updates what a committed first attempt created.
//
// # Other routers
//
// The handler is a plain http.Handler, so any router mounts it: chi with
// r.Method("POST", taskhttp.Path, h), gin with router.POST(taskhttp.Path,
// gin.WrapH(h)), echo with e.POST(taskhttp.Path, echo.WrapHandler(h)). A
// router's own 404 and 405 escape the envelope unless its not-found and
// method-not-allowed handlers call WriteError; the examples module's routers
// package does so for ServeMux, chi, gin and echo, tested on the handler's
// table. Services that assemble the endpoint themselves use the handler's
// own pieces, and answer byte for byte as it does: Authorize (the bearer
// token) and CheckContentType, DecodeRequest (or DecodeRequestWithLimits
// with Service.Limits, to refuse an oversized request while reading),
// WriteResult and WriteError, and ErrorStatus for a framework's error
// handler. ErrNotFound, ErrMethodNotAllowed, ErrUnauthorized,
// ErrUnsupportedMediaType and ErrTooManyRequests give their own checks the
// same envelope; a body they read themselves whose read timed out is a 408
// once wrapped with ErrRequestTimeout. Serve the handler from an http.Server
// with a ReadTimeout, so that a body that stalls ends in a 408 instead of
// holding a connection (and a slot and its bytes).
//
// # Memory
//
// What a handler holds grows with the bytes of the requests it serves, not
// their number: a call of a million pairs takes 10 to 16 times its body
// on PostgreSQL. Options.MaxInFlightBytes (DefaultMaxInFlightBytes, 192 MiB)
// bounds the bytes of the requests admitted and not yet answered, so that
// many large calls at once get 429s instead of the server's memory.
package taskhttp
