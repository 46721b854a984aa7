package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field error codes. Clients branch on them, never on messages.
const (
	CodeMissingRequiredField = "MISSING_REQUIRED_FIELD"
	CodeValidationError      = "VALIDATION_ERROR"
)

// MaxIDBytes is the longest identifier (organization, run, variant, shop)
// accepted, in bytes.
const MaxIDBytes = 255

// MaxFieldErrors is the most FieldErrors one ValidationError lists: a
// million bad pairs must not turn into a million-entry error. A longer list
// is cut, and its last entry (with the empty field) says so.
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

// FieldErrors collects the problems of one input, up to MaxFieldErrors, as
// every check of this module reports them: taskcreate's, taskhttp's and
// the Validate functions below. The zero value is empty and ready.
type FieldErrors struct {
	list      []FieldError
	truncated bool
}

// Add records a problem of field.
func (fe *FieldErrors) Add(field, code, format string, args ...any) {
	if len(fe.list) >= MaxFieldErrors {
		fe.truncated = true
		return
	}
	fe.list = append(fe.list, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Full reports whether more problems would only be counted, not listed: a
// check of a long list may stop there.
func (fe *FieldErrors) Full() bool { return fe.truncated }

// Err returns the *ValidationError of the problems recorded, or nil if
// there is none.
func (fe *FieldErrors) Err() error {
	if len(fe.list) == 0 {
		return nil
	}
	if fe.truncated {
		fe.list[len(fe.list)-1] = FieldError{Field: "", Code: CodeValidationError,
			Message: fmt.Sprintf("more than %d problems; only the first are listed", MaxFieldErrors-1)}
	}
	return &ValidationError{Fields: fe.list}
}

// CheckID applies the identifier rule to the value s of field: required
// (not empty after trimming spaces, though the value is never trimmed), at
// most MaxIDBytes bytes, valid UTF-8, no control characters.
func (fe *FieldErrors) CheckID(field, s string) {
	if code, msg := idProblem(s); code != "" {
		fe.Add(field, code, "%s", msg)
	}
}

// CheckIDAt applies the identifier rule to the field list[i].name
// ("[i].name" when list is empty), and builds that path only for a wrong
// value: a perimeter holds up to a million pairs, nearly always all fine.
func (fe *FieldErrors) CheckIDAt(list string, i int, name, s string) {
	if code, msg := idProblem(s); code != "" {
		fe.Add(fmt.Sprintf("%s[%d].%s", list, i, name), code, "%s", msg)
	}
}

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

// CheckDomain records a problem of field unless d is one of the domains.
func (fe *FieldErrors) CheckDomain(field string, d Domain) {
	if !d.Valid() {
		fe.Add(field, CodeValidationError, "must be one of %q, %q, %q, got %q", Restock, Rebalance, Markdown, string(d))
	}
}

// finite reports whether v is absent or a finite number.
func finite(v *float64) bool {
	return v == nil || !math.IsNaN(*v) && !math.IsInf(*v, 0)
}

// ValidateActionVectors checks rows before a store writes them. Field paths
// are indexes into rows ("[3].shopId"). Adapters call it from
// PutActionVectors so every store accepts exactly the same rows.
func ValidateActionVectors(rows []ActionVector) error {
	var fe FieldErrors
	for i, v := range rows {
		at := func(field string) string { return fmt.Sprintf("[%d].%s", i, field) }
		fe.CheckIDAt("", i, "organizationId", v.OrganizationID)
		fe.CheckIDAt("", i, "variantId", v.VariantID)
		fe.CheckIDAt("", i, "shopId", v.ShopID)
		if v.SnapshotDate.IsZero() {
			fe.Add(at("snapshotDate"), CodeMissingRequiredField, "is required")
		} else if y := v.SnapshotDate.Year(); y < 1 || y > 9999 {
			fe.Add(at("snapshotDate"), CodeValidationError, "year must be between 1 and 9999")
		}
		if !v.Domain.Valid() {
			fe.CheckDomain(at("domain"), v.Domain)
		}
		if q := v.RecommendedQty; q != nil && (*q < math.MinInt32 || *q > math.MaxInt32) {
			fe.Add(at("recommendedQty"), CodeValidationError, "must fit in 32 bits")
		}
		if !finite(v.RecommendedDiscountPct) {
			fe.Add(at("recommendedDiscountPct"), CodeValidationError, "must be a finite number")
		}
		if !finite(v.Confidence) {
			fe.Add(at("confidence"), CodeValidationError, "must be a finite number")
		}
		switch {
		case len(v.Snapshot) == 0:
			fe.Add(at("snapshot"), CodeMissingRequiredField, "is required")
		case !json.Valid(v.Snapshot):
			fe.Add(at("snapshot"), CodeValidationError, "must be valid JSON")
		}
		if fe.Full() {
			break
		}
	}
	return fe.Err()
}

// ValidateTaskFilter checks a filter before a store uses it.
func ValidateTaskFilter(f TaskFilter) error {
	var fe FieldErrors
	fe.CheckID("organizationId", f.OrganizationID)
	if f.WorkflowRunID != "" {
		fe.CheckID("workflowRunId", f.WorkflowRunID)
	}
	for i, s := range f.Statuses {
		if !s.Valid() {
			fe.Add(fmt.Sprintf("statuses[%d]", i), CodeValidationError, "unknown status %q", string(s))
		}
	}
	return fe.Err()
}

// ValidateStatusChange checks the arguments of a store's SetTaskStatus.
func ValidateStatusChange(organizationID string, st Status) error {
	var fe FieldErrors
	fe.CheckID("organizationId", organizationID)
	if !st.Valid() {
		fe.Add("status", CodeValidationError, "unknown status %q", string(st))
	}
	return fe.Err()
}
