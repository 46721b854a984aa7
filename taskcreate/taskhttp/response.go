package taskhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/actionvector/tasks/taskcreate"
)

// Error codes of the envelope's errorCode. Clients branch on them, never on
// messages.
const (
	CodeMissingRequiredField = taskcreate.CodeMissingRequiredField // 400: every problem is a missing field
	CodeValidationError      = taskcreate.CodeValidationError      // 400: any other problem with the body
	CodeUnauthorized         = "UNAUTHORIZED"                      // 401
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"                // 405
	CodePayloadTooLarge      = "PAYLOAD_TOO_LARGE"                 // 413
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"            // 415
	CodeDatabaseError        = "DATABASE_ERROR"                    // 500
	CodeRequestCancelled     = "REQUEST_CANCELLED"                 // 503
	CodeTimeout              = "TIMEOUT"                           // 504
)

// Errors of the HTTP layer itself, for WriteError. Routers that check the
// method, the token or the content type themselves can answer with them.
var (
	ErrUnauthorized         = errors.New("taskhttp: missing or invalid bearer token")
	ErrMethodNotAllowed     = errors.New("taskhttp: method not allowed")
	ErrUnsupportedMediaType = errors.New("taskhttp: unsupported media type")
)

// The messages of errors whose own text must not reach the client.
const (
	msgDatabase  = "the task store failed; no task was written"
	msgCancelled = "the request was cancelled; no task was written"
	msgTimeout   = "the request timed out; no task was written"
)

// WriteResult writes res as a 200 response in the success envelope.
func WriteResult(w http.ResponseWriter, res taskcreate.Result) {
	writeJSON(w, http.StatusOK, Response{Success: true, Data: &ResponseData{
		Created:       res.Created,
		Updated:       res.Updated,
		Suppressed:    res.Suppressed,
		Skipped:       res.Skipped,
		Unmatched:     res.Unmatched,
		SuccessCode:   res.SuccessCode,
		WorkflowRunID: res.WorkflowRunID,
	}})
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
	status, body := errorResponse(err)
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", "Bearer")
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
	}
	writeJSON(w, status, body)
	return status, body.ErrorCode
}

// errorResponse is the one mapping from errors to HTTP statuses and bodies.
func errorResponse(err error) (int, Response) {
	fail := func(status int, code, msg string) (int, Response) {
		return status, Response{Error: msg, ErrorCode: code}
	}
	var tooLarge *http.MaxBytesError
	var invalid *taskcreate.ValidationError
	switch {
	case err == nil:
		// A caller bug; answering 200 would claim tasks were written.
		return fail(http.StatusInternalServerError, CodeDatabaseError, msgDatabase)
	case errors.As(err, &tooLarge):
		return fail(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
			"the request body is larger than "+strconv.FormatInt(tooLarge.Limit, 10)+" bytes")
	case errors.As(err, &invalid):
		return http.StatusBadRequest, validationResponse(invalid.Fields)
	case errors.Is(err, taskcreate.ErrInvalidRequest):
		return fail(http.StatusBadRequest, CodeValidationError, "invalid request")
	case errors.Is(err, ErrUnauthorized):
		return fail(http.StatusUnauthorized, CodeUnauthorized, "a valid bearer token is required")
	case errors.Is(err, ErrMethodNotAllowed):
		return fail(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "only POST is allowed")
	case errors.Is(err, ErrUnsupportedMediaType):
		return fail(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "the Content-Type must be application/json")
	case errors.Is(err, context.DeadlineExceeded):
		return fail(http.StatusGatewayTimeout, CodeTimeout, msgTimeout)
	case errors.Is(err, context.Canceled):
		return fail(http.StatusServiceUnavailable, CodeRequestCancelled, msgCancelled)
	default:
		return fail(http.StatusInternalServerError, CodeDatabaseError, msgDatabase)
	}
}

// validationResponse lists fields in the envelope. Its errorCode is
// MISSING_REQUIRED_FIELD only when every problem is a missing field.
func validationResponse(fields []taskcreate.FieldError) Response {
	r := Response{ErrorCode: CodeMissingRequiredField, FieldErrors: make([]FieldError, len(fields))}
	for i, f := range fields {
		r.FieldErrors[i] = FieldError{Field: f.Field, Code: f.Code, Message: f.Message}
		if f.Code != CodeMissingRequiredField {
			r.ErrorCode = CodeValidationError
		}
	}
	if len(fields) == 0 {
		r.ErrorCode = CodeValidationError
	}
	r.Error = summary(fields)
	return r
}

// summary names the first few problems, so the message alone says what to fix.
func summary(fields []taskcreate.FieldError) string {
	var b strings.Builder
	b.WriteString("invalid request")
	for i, f := range fields {
		if i == 3 {
			fmt.Fprintf(&b, " (and %d more)", len(fields)-i)
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		name := f.Field
		if name == "" {
			name = "body"
		}
		b.WriteString(name + " " + f.Message)
	}
	return b.String()
}

func writeJSON(w http.ResponseWriter, status int, body Response) {
	data, err := json.Marshal(body)
	if err != nil {
		// Response holds only strings, ints and bools: Marshal cannot fail.
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
