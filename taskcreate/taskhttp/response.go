package taskhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/actionvector/tasks/taskcreate"
)

// Error codes of the envelope's errorCode. Clients branch on them, never on
// messages.
const (
	CodeMissingRequiredField = taskcreate.CodeMissingRequiredField // 400: every problem is a missing field
	CodeValidationError      = taskcreate.CodeValidationError      // 400: any other problem with the body
	CodeUnauthorized         = "UNAUTHORIZED"                      // 401
	CodeNotFound             = "NOT_FOUND"                         // 404
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"                // 405
	CodeRequestTimeout       = "REQUEST_TIMEOUT"                   // 408: the body did not arrive in time
	CodePayloadTooLarge      = "PAYLOAD_TOO_LARGE"                 // 413
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"            // 415
	CodeTooManyRequests      = "TOO_MANY_REQUESTS"                 // 429: Options.MaxConcurrentCalls or MaxInFlightBytes is reached
	CodeRetireBudgetExceeded = "RETIRE_BUDGET_EXCEEDED"            // 409: nothing written; see Response.Retire
	CodeDatabaseError        = "DATABASE_ERROR"                    // 500
	CodeOutcomeUnknown       = "OUTCOME_UNKNOWN"                   // 500: tasks may have been written
	CodeRequestCancelled     = "REQUEST_CANCELLED"                 // 503
	CodeStoreBusy            = "STORE_BUSY"                        // 503: the store stayed busy through every retry
	CodeTimeout              = "TIMEOUT"                           // 504
)

// Errors of the HTTP layer itself, for WriteError. Routers that check the
// method, the token, the content type, the path or their own limits can
// answer with them.
var (
	ErrUnauthorized         = errors.New("taskhttp: missing or invalid bearer token")
	ErrNotFound             = errors.New("taskhttp: no such endpoint")
	ErrMethodNotAllowed     = errors.New("taskhttp: method not allowed")
	ErrUnsupportedMediaType = errors.New("taskhttp: unsupported media type")
	ErrTooManyRequests      = errors.New("taskhttp: too many concurrent calls or request bytes")

	// ErrRequestTimeout marks a body whose reading timed out. DecodeRequest
	// wraps such read errors with it; a timeout from anywhere else (a
	// database connection) is not the client's doing, so it is not a 408.
	ErrRequestTimeout = errors.New("taskhttp: reading the request body timed out")
)

// The messages of errors whose own text must not reach the client.
const (
	msgDatabase       = "the task store failed; no task was written"
	msgOutcomeUnknown = "the connection to the task store was lost while committing: tasks may have been written; repeating the same request is safe"
	msgStoreBusy      = "the task store stayed busy through every retry; no task was written; retry later"
	msgCancelled      = "the request was cancelled; no task was written"
	msgTimeout        = "the request timed out; no task was written"
)

// WriteResult writes res, the result of req, as a 200 response in the
// success envelope, byte for byte as the handler does: with retired when
// req asked for RetireStale, and outcomes when it asked for ReturnOutcomes.
func WriteResult(w http.ResponseWriter, req taskcreate.Request, res taskcreate.Result) {
	data := &ResponseData{
		Created:       res.Created,
		Updated:       res.Updated,
		Suppressed:    res.Suppressed,
		Skipped:       res.Skipped,
		Unmatched:     res.Unmatched,
		SuccessCode:   res.SuccessCode,
		WorkflowRunID: res.WorkflowRunID,
	}
	if req.RetireStale {
		data.Retired = &res.Retired
	}
	if res.Outcomes != nil {
		outcomes := make([]Outcome, len(res.Outcomes))
		for i, o := range res.Outcomes {
			outcomes[i] = Outcome{Domain: o.Domain, ShopID: o.ShopID, VariantID: o.VariantID, Outcome: string(o.Outcome), Retired: o.Retired}
			if o.TaskID != uuid.Nil {
				outcomes[i].TaskID = o.TaskID.String()
			}
		}
		data.Outcomes = &outcomes
	}
	writeJSON(w, http.StatusOK, Response{Success: true, Data: data})
}

// WriteSweepResult writes res as a 200 response in the success envelope.
func WriteSweepResult(w http.ResponseWriter, res taskcreate.SweepResult) {
	writeJSON(w, http.StatusOK, SweepResponse{Success: true, Data: &SweepResponseData{
		Dismissed: res.Dismissed, SuccessCode: res.SuccessCode, WorkflowRunID: res.WorkflowRunID}})
}

// ErrorStatus returns the status and the errorCode WriteError answers err
// with, for a framework's own error handler.
func ErrorStatus(err error) (status int, errorCode string) {
	status, body, _ := errorResponse(err)
	return status, body.ErrorCode
}

// WriteError writes err as an error response: the status, errorCode and
// headers of the package documentation's table. Validation errors (from
// DecodeRequest or Service.CreateTasks) list their field errors; store
// errors are answered with a fixed message, since their text may hold SQL or
// driver details. Any error it does not recognize is a store error (500).
func WriteError(w http.ResponseWriter, err error) {
	writeError(w, err)
}

// writeError is WriteError reporting what it wrote, for the handler's log.
func writeError(w http.ResponseWriter, err error) (status int, code string) {
	status, body, header := errorResponse(err)
	for name, values := range header {
		w.Header()[name] = values
	}
	writeJSON(w, status, body)
	return status, body.ErrorCode
}

// errorResponse is the one mapping from errors to HTTP statuses, bodies and
// headers. An answer before the body's end (a refusal while reading) sets no
// Connection: close: net/http closes on a large unread rest itself, pausing
// for the client to read the answer, a pause a handler's Connection: close
// skips when a middleware (otelhttp) has wrapped the body.
func errorResponse(err error) (int, Response, http.Header) {
	fail := func(status int, code, msg string, header ...string) (int, Response, http.Header) {
		h := http.Header{}
		for i := 0; i < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return status, Response{Error: msg, ErrorCode: code}, h
	}
	var tooLarge *http.MaxBytesError
	var invalid *taskcreate.ValidationError
	var refused *taskcreate.RetireBudgetError
	switch {
	case err == nil:
		// A caller bug; answering 200 would claim tasks were written.
		return fail(http.StatusInternalServerError, CodeDatabaseError, msgDatabase)
	case errors.As(err, &tooLarge):
		return fail(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
			"the request body is larger than "+strconv.FormatInt(tooLarge.Limit, 10)+" bytes")
	case errors.As(err, &invalid):
		return http.StatusBadRequest, validationResponse(invalid), http.Header{}
	case errors.Is(err, taskcreate.ErrInvalidRequest):
		return fail(http.StatusBadRequest, CodeValidationError, "invalid request")
	case errors.As(err, &refused):
		status, r, h := fail(http.StatusConflict, CodeRetireBudgetExceeded, fmt.Sprintf(
			"the call would retire %d of %d open tasks, more than its budget of %g allows; no task was written "+
				"(maxRetireFraction replaces the budget for a run whose recommendations really ended)",
			refused.WouldRetire, refused.Open, refused.Budget))
		r.Retire = &RetireRefusal{WouldRetire: refused.WouldRetire, Open: refused.Open, Budget: refused.Budget}
		return status, r, h
	case errors.Is(err, ErrUnauthorized):
		return fail(http.StatusUnauthorized, CodeUnauthorized, "a valid bearer token is required", "WWW-Authenticate", "Bearer")
	case errors.Is(err, ErrNotFound):
		return fail(http.StatusNotFound, CodeNotFound, "no endpoint at this path")
	case errors.Is(err, ErrMethodNotAllowed):
		return fail(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "only POST is allowed", "Allow", http.MethodPost)
	case errors.Is(err, ErrRequestTimeout):
		// The rest of the body may still be on its way: the connection cannot be reused.
		return fail(http.StatusRequestTimeout, CodeRequestTimeout, "the request body was not received in time; no task was written",
			"Connection", "close")
	case errors.Is(err, ErrUnsupportedMediaType):
		return fail(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "the request must have one Content-Type header, application/json")
	case errors.Is(err, ErrTooManyRequests):
		return fail(http.StatusTooManyRequests, CodeTooManyRequests, "too many calls, or too many bytes of them, are in flight; no task was written; retry later",
			"Retry-After", "1")
	case errors.Is(err, taskcreate.ErrOutcomeUnknown):
		// Before the context errors: a commit cut short may also wrap context.Canceled.
		return fail(http.StatusInternalServerError, CodeOutcomeUnknown, msgOutcomeUnknown)
	case errors.Is(err, context.DeadlineExceeded):
		return fail(http.StatusGatewayTimeout, CodeTimeout, msgTimeout)
	case errors.Is(err, context.Canceled):
		return fail(http.StatusServiceUnavailable, CodeRequestCancelled, msgCancelled)
	case errors.Is(err, taskcreate.ErrTransient):
		return fail(http.StatusServiceUnavailable, CodeStoreBusy, msgStoreBusy, "Retry-After", "1")
	default:
		return fail(http.StatusInternalServerError, CodeDatabaseError, msgDatabase)
	}
}

// validationResponse lists the fields of invalid in the envelope. Its
// errorCode is MISSING_REQUIRED_FIELD only when every problem is a missing
// field.
func validationResponse(invalid *taskcreate.ValidationError) Response {
	r := Response{Error: invalid.Summary(), ErrorCode: invalid.Code(), FieldErrors: make([]FieldError, len(invalid.Fields))}
	for i, f := range invalid.Fields {
		r.FieldErrors[i] = FieldError{Field: f.Field, Code: f.Code, Message: f.Message}
	}
	return r
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		// The envelopes hold only strings, ints and bools: Marshal cannot fail.
		panic(err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
