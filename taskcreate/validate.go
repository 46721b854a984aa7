package taskcreate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Field error codes. Clients branch on them, never on messages.
const (
	CodeMissingRequiredField = "MISSING_REQUIRED_FIELD"
	CodeValidationError      = "VALIDATION_ERROR"
)

// MaxIDBytes is the longest identifier (organization, run, variant, shop) accepted, in bytes.
const MaxIDBytes = 255

// MaxFieldErrors is the most FieldErrors one ValidationError lists, here and
// in taskhttp's decoder: a million bad pairs must not turn into a
// million-entry error. A longer list is cut, and its last entry (with the
// empty field) says so.
const MaxFieldErrors = 1000

// ErrInvalidRequest is matched by errors.Is for every validation failure.
var ErrInvalidRequest = errors.New("taskcreate: invalid request")

// FieldError is one problem with one field of the input.
type FieldError struct {
	Field   string // JSON path: "organizationId", "domains[1]", "perimeter[3].shopId"
	Code    string // CodeMissingRequiredField or CodeValidationError
	Message string // for people; may change between versions
}

// ValidationError lists every problem found in an input. It matches
// ErrInvalidRequest with errors.Is.
type ValidationError struct {
	Fields []FieldError
}

// Error returns the Summary, prefixed by the package's name.
func (e *ValidationError) Error() string { return "taskcreate: " + e.Summary() }

// Summary names the first three problems and counts the others, so one line
// says what to fix: `invalid request: domains is required; perimeter[3].shopId
// is required (and 2 more)`. taskhttp sends it as the error message.
func (e *ValidationError) Summary() string {
	var b strings.Builder
	b.WriteString("invalid request")
	for i, f := range e.Fields {
		if i == 3 {
			fmt.Fprintf(&b, " (and %d more)", len(e.Fields)-i)
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ") // messages may hold commas, as in a list of domains
		}
		if f.Field != "" { // the input as a whole
			b.WriteString(f.Field + " ")
		}
		b.WriteString(f.Message)
	}
	return b.String()
}

// Code is the code of the whole error: CodeMissingRequiredField when every
// problem is a missing field, else CodeValidationError.
func (e *ValidationError) Code() string {
	for _, f := range e.Fields {
		if f.Code != CodeMissingRequiredField {
			return CodeValidationError
		}
	}
	if len(e.Fields) == 0 {
		return CodeValidationError
	}
	return CodeMissingRequiredField
}

// Is makes errors.Is(err, ErrInvalidRequest) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidRequest }

// fieldErrors collects FieldErrors up to MaxFieldErrors.
type fieldErrors struct {
	list      []FieldError
	truncated bool
}

func (fe *fieldErrors) add(field, code, format string, args ...any) {
	if len(fe.list) >= MaxFieldErrors {
		fe.truncated = true
		return
	}
	fe.list = append(fe.list, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (fe *fieldErrors) err() error {
	if len(fe.list) == 0 {
		return nil
	}
	if fe.truncated {
		fe.list[len(fe.list)-1] = FieldError{Field: "", Code: CodeValidationError,
			Message: fmt.Sprintf("more than %d problems; only the first are listed", MaxFieldErrors-1)}
	}
	return &ValidationError{Fields: fe.list}
}

// idProblem returns the code and message of what breaks the identifier rule
// shared by every ID field, or an empty code if s keeps it: required
// (non-empty after trimming), at most MaxIDBytes bytes, valid UTF-8, no
// control characters. The value itself is never trimmed.
func idProblem(s string) (code, message string) {
	switch {
	case strings.TrimSpace(s) == "":
		return CodeMissingRequiredField, "is required"
	case len(s) > MaxIDBytes:
		return CodeValidationError, fmt.Sprintf("must be at most %d bytes, got %d", MaxIDBytes, len(s))
	case !utf8.ValidString(s):
		return CodeValidationError, "must be valid UTF-8"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return CodeValidationError, "must not contain control characters"
	}
	return "", ""
}

// checkID applies the identifier rule to field.
func (fe *fieldErrors) checkID(field, s string) {
	if code, msg := idProblem(s); code != "" {
		fe.add(field, code, "%s", msg)
	}
}

// checkIDAt applies the identifier rule to the field list[i].name ("[i].name"
// when list is empty), and builds that path only for a wrong value: a
// perimeter holds up to a million pairs, nearly always all fine.
func (fe *fieldErrors) checkIDAt(list string, i int, name, s string) {
	if code, msg := idProblem(s); code != "" {
		fe.add(fmt.Sprintf("%s[%d].%s", list, i, name), code, "%s", msg)
	}
}

// finite reports whether v is absent or a finite number.
func finite(v *float64) bool {
	return v == nil || !math.IsNaN(*v) && !math.IsInf(*v, 0)
}

// checkRequest validates req against the rules of the package documentation.
func checkRequest(req *Request, maxPerimeter int) error {
	var fe fieldErrors
	fe.checkID("organizationId", req.OrganizationID)
	fe.checkID("workflowRunId", req.WorkflowRunID)

	switch {
	case req.Domains == nil:
		fe.add("domains", CodeMissingRequiredField, "is required")
	case len(req.Domains) == 0:
		fe.add("domains", CodeValidationError, "must contain at least one domain")
	}
	for i, d := range req.Domains {
		if !d.Valid() {
			fe.add(fmt.Sprintf("domains[%d]", i), CodeValidationError,
				"must be one of %q, %q, %q, got %q", Restock, Rebalance, Markdown, string(d))
		}
	}

	switch c := req.MinConfidence; {
	case math.IsNaN(c) || math.IsInf(c, 0):
		fe.add("minConfidence", CodeValidationError, "must be a finite number")
	case c < 0 || c > 1:
		fe.add("minConfidence", CodeValidationError, "must be between 0 and 1, got %v", c)
	}

	if f := req.MaxRetireFraction; f != nil && !(*f >= 0 && *f <= 1) { // NaN too
		fe.add("maxRetireFraction", CodeValidationError, "must be between 0 and 1, got %v", *f)
	}
	if d := req.SnapshotDate; !d.IsZero() {
		switch _, offset := d.Zone(); {
		case offset != 0 || !d.Equal(DateOf(d)):
			fe.add("snapshotDate", CodeValidationError, "must be a calendar date, midnight UTC, got %s", d.Format(time.RFC3339Nano))
		case d.Year() < 1 || d.Year() > 9999:
			fe.add("snapshotDate", CodeValidationError, "year must be between 1 and 9999")
		}
	}

	if len(req.Perimeter) > maxPerimeter {
		// Checking every pair of an oversized perimeter is wasted work.
		fe.list = append(fe.list, perimeterTooLarge(maxPerimeter, len(req.Perimeter)))
	} else {
		for i, p := range req.Perimeter {
			fe.checkIDAt("perimeter", i, "variantId", p.VariantID)
			fe.checkIDAt("perimeter", i, "shopId", p.ShopID)
			if fe.truncated {
				break
			}
		}
	}
	return fe.err()
}

// Limits are the bounds a Service sets on the size of a request. A decoder
// that reads a request as it arrives, as taskhttp's does, refuses an
// oversized one with their errors as soon as it has read enough to know,
// instead of reading it whole for CreateTasks to refuse.
type Limits struct {
	MaxPerimeter int // pairs, before duplicates are collapsed (WithMaxPerimeter)
	MaxOutcomes  int // candidates of a request that asks for ReturnOutcomes (WithMaxOutcomes)
}

// PerimeterError returns the error CreateTasks returns for a perimeter of
// pairs pairs, duplicates included, or nil if the perimeter is not too
// large.
func (l Limits) PerimeterError(pairs int) error {
	if pairs <= l.MaxPerimeter {
		return nil
	}
	return &ValidationError{Fields: []FieldError{perimeterTooLarge(l.MaxPerimeter, pairs)}}
}

// OutcomesError returns the error CreateTasks returns for a request that
// asks for ReturnOutcomes with uniquePairs pairs and uniqueDomains domains
// (after duplicates are collapsed), or nil if the list is not too long.
func (l Limits) OutcomesError(uniquePairs, uniqueDomains int) error {
	if uniquePairs*uniqueDomains <= l.MaxOutcomes {
		return nil
	}
	return &ValidationError{Fields: []FieldError{{Field: "returnOutcomes", Code: CodeValidationError,
		Message: fmt.Sprintf("lists at most %d candidates, and this request has %d (%d pairs x %d domains)",
			l.MaxOutcomes, uniquePairs*uniqueDomains, uniquePairs, uniqueDomains)}}}
}

func perimeterTooLarge(max, pairs int) FieldError {
	return FieldError{Field: "perimeter", Code: CodeValidationError, Message: fmt.Sprintf("must have at most %d pairs, got %d", max, pairs)}
}

// checkSweep validates a SweepRequest: both ids follow the identifier rule.
func checkSweep(req SweepRequest) error {
	var fe fieldErrors
	fe.checkID("organizationId", req.OrganizationID)
	fe.checkID("workflowRunId", req.WorkflowRunID)
	return fe.err()
}

// ValidateActionVectors checks rows before a store writes them. Field paths
// are indexes into rows ("[3].shopId"). Adapters call it from
// PutActionVectors so every store accepts exactly the same rows.
func ValidateActionVectors(rows []ActionVector) error {
	var fe fieldErrors
	for i, v := range rows {
		at := func(field string) string { return fmt.Sprintf("[%d].%s", i, field) }
		fe.checkIDAt("", i, "organizationId", v.OrganizationID)
		fe.checkIDAt("", i, "variantId", v.VariantID)
		fe.checkIDAt("", i, "shopId", v.ShopID)
		if v.SnapshotDate.IsZero() {
			fe.add(at("snapshotDate"), CodeMissingRequiredField, "is required")
		} else if y := v.SnapshotDate.Year(); y < 1 || y > 9999 {
			fe.add(at("snapshotDate"), CodeValidationError, "year must be between 1 and 9999")
		}
		if !v.Domain.Valid() {
			fe.add(at("domain"), CodeValidationError, "must be one of %q, %q, %q, got %q",
				Restock, Rebalance, Markdown, string(v.Domain))
		}
		if q := v.RecommendedQty; q != nil && (*q < math.MinInt32 || *q > math.MaxInt32) {
			fe.add(at("recommendedQty"), CodeValidationError, "must fit in 32 bits")
		}
		if !finite(v.RecommendedDiscountPct) {
			fe.add(at("recommendedDiscountPct"), CodeValidationError, "must be a finite number")
		}
		if !finite(v.Confidence) {
			fe.add(at("confidence"), CodeValidationError, "must be a finite number")
		}
		switch {
		case len(v.Snapshot) == 0:
			fe.add(at("snapshot"), CodeMissingRequiredField, "is required")
		case !json.Valid(v.Snapshot):
			fe.add(at("snapshot"), CodeValidationError, "must be valid JSON")
		}
		if fe.truncated {
			break
		}
	}
	return fe.err()
}

// ValidateTaskFilter checks a filter before a store uses it.
func ValidateTaskFilter(f TaskFilter) error {
	var fe fieldErrors
	fe.checkID("organizationId", f.OrganizationID)
	if f.WorkflowRunID != "" {
		fe.checkID("workflowRunId", f.WorkflowRunID)
	}
	for i, s := range f.Statuses {
		if !s.Valid() {
			fe.add(fmt.Sprintf("statuses[%d]", i), CodeValidationError, "unknown status %q", string(s))
		}
	}
	return fe.err()
}

// ValidateStatusChange checks the arguments of a store's SetTaskStatus.
func ValidateStatusChange(organizationID string, st Status) error {
	var fe fieldErrors
	fe.checkID("organizationId", organizationID)
	if !st.Valid() {
		fe.add("status", CodeValidationError, "unknown status %q", string(st))
	}
	return fe.err()
}

// DateOf returns the calendar date of t (its year, month and day in its own
// location) as midnight UTC, the form stores return dates in.
func DateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
